// layer: native (C++ addon)
// job: a tally of malformed rows by problem, with a few examples.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "conn_parse.h"

namespace lvskit {

/** A malformed line kept as an example: 1-based line number, the problem, up to kExampleBytes of its text. */
struct RowExample {
  uint64_t line;
  RowProblem problem;
  std::string text;
};

/** Counts of malformed lines by problem, and the first few as examples. */
class ProblemLog {
 public:
  static constexpr size_t kMaxExamples = 16;
  static constexpr size_t kExampleBytes = 160;
  void Add(RowProblem problem, uint64_t line, const char* begin, const char* end);
  /** Add the tally of lines that follow ours; their examples are renumbered by `lineOffset`. */
  void Append(const ProblemLog& later, uint64_t lineOffset);
  uint64_t Total() const { return total_; }
  uint64_t Count(RowProblem problem) const { return counts_[static_cast<size_t>(problem)]; }
  const std::vector<RowExample>& Examples() const { return examples_; }

 private:
  uint64_t total_ = 0;
  uint64_t counts_[static_cast<size_t>(RowProblem::kCount)] = {};
  std::vector<RowExample> examples_;
};

}  // namespace lvskit
