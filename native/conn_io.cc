// layer: native (C++ addon)
// job: open a file (inside another network namespace when asked) and keep a tally of malformed rows with a few examples.
#include "conn_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <thread>

namespace lvskit {
namespace {

OpenedFile PlainOpen(const std::string& path) {
  OpenedFile result;
  result.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (result.fd < 0) result.err = errno;
  return result;
}

}  // namespace

OpenedFile OpenFileIn(const std::string& path, const std::string* netnsPath) {
  if (netnsPath == nullptr) return PlainOpen(path);
  OpenedFile result;
  const int nsFd = open(netnsPath->c_str(), O_RDONLY | O_CLOEXEC);
  if (nsFd < 0) {
    result.err = errno;
    return result;
  }
  try {
    std::thread worker([&] {
      if (setns(nsFd, CLONE_NEWNET) != 0) {
        result.err = errno;
        result.syscall = "setns";
        return;
      }
      result = PlainOpen(path);
    });
    worker.join();
  } catch (const std::system_error& error) {
    result.fd = -1;
    result.err = error.code().value();
    result.syscall = "pthread_create";
  }
  close(nsFd);
  return result;
}

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
