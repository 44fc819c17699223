// layer: native (C++ addon)
// job: open a file (inside another network namespace when asked) and keep a tally of malformed rows with a few examples.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "conn_parse.h"

namespace lvskit {

/** The outcome of OpenFileIn: `fd` >= 0, or `err` (positive errno) and the `syscall` that failed. */
struct OpenedFile {
  int fd = -1;
  int err = 0;
  const char* syscall = "open";
};

/**
 * open(path, O_RDONLY|O_CLOEXEC). With `netnsPath`, on a short-lived thread that first joins that
 * network namespace, so that `/proc/thread-self/net/...` names that namespace's files; the
 * calling thread never changes namespace, and the descriptor keeps reading what it opened.
 */
OpenedFile OpenFileIn(const std::string& path, const std::string* netnsPath);

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
