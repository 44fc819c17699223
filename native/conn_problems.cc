// layer: native (C++ addon)
// job: a tally of malformed rows by problem, with a few examples.
#include "conn_problems.h"

#include <algorithm>

namespace lvskit {

void ProblemLog::Add(RowProblem problem, uint64_t line, const char* begin, const char* end) {
  total_++;
  counts_[static_cast<size_t>(problem)]++;
  if (examples_.size() < kMaxExamples) {
    const size_t length = std::min(static_cast<size_t>(end - begin), kExampleBytes);
    examples_.push_back(RowExample{line, problem, std::string(begin, length)});
  }
}

void ProblemLog::Append(const ProblemLog& later, uint64_t lineOffset) {
  total_ += later.total_;
  for (size_t i = 0; i < static_cast<size_t>(RowProblem::kCount); i++) counts_[i] += later.counts_[i];
  for (const RowExample& example : later.examples_) {
    if (examples_.size() >= kMaxExamples) break;
    examples_.push_back(RowExample{example.line + lineOffset, example.problem, example.text});
  }
}

}  // namespace lvskit
