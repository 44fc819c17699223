// layer: native (C++ addon)
// job: scanConnections(): one streaming pass over /proc/net/ip_vs_conn (or a file in its format) on a worker thread, aggregated per client.
#include "conn_scan.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "conn_aggregate.h"
#include "conn_pass.h"
#include "errors.h"
#include "netns.h"

namespace lvskit {
namespace {

double NumberOption(Napi::Env env, const Napi::Object& options, const char* name, double fallback, double min, double max) {
  const Napi::Value value = options.Get(name);
  if (value.IsUndefined()) return fallback;
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::trunc(number) == number && number >= min && number <= max)) {
    ThrowTypeError(env, std::string("options.") + name + " must be an integer in " + std::to_string(static_cast<int64_t>(min)) + ".." +
                            std::to_string(static_cast<int64_t>(max)));
  }
  return number;
}

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/** Files at least this large are read as two halves on two threads. */
constexpr uint64_t kParallelBytes = 16 << 20;

/** Parses and aggregates on a libuv worker thread; calls back (error) or (null, result). */
class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Function callback, ConnSource source, AggregateOptions aggregate, bool all, int64_t threshold, size_t limit,
             bool parallel, std::shared_ptr<std::atomic<bool>> cancelled, std::atomic<uint64_t>* progress, Napi::Object progressArray)
      : Napi::AsyncWorker(callback, "lvskit:scanConnections"),
        source_(std::move(source)),
        options_(std::move(aggregate)),
        all_(all),
        threshold_(threshold),
        limit_(limit),
        parallel_(parallel),
        cancelled_(std::move(cancelled)),
        progress_(progress) {
    // The array the pass writes into stays alive until the worker is done with it.
    if (progress != nullptr) progressArray_ = Napi::Persistent(progressArray);
  }

  void Execute() override {
    const double started = NowMs();
    const OpenResult file = OpenFile(source_.path, source_.netns.get());
    if (file.fd < 0) {
      err_ = file.err;
      syscall_ = file.syscall;
      return;
    }
    // An allocation that fails on either thread of the scan fails the scan (ENOMEM), never the process.
    try {
      pass_ = ScanDescriptor(file.fd, options_, source_.chunkBytes, parallel_ ? kParallelBytes : 0, *cancelled_, progress_);
    } catch (const std::bad_alloc&) {
      close(file.fd);
      err_ = ENOMEM;
      syscall_ = "scan";
      return;
    } catch (const std::exception& error) {
      close(file.fd);
      SetError(std::string("connection table scan failed: ") + error.what());
      return;
    }
    close(file.fd);
    const PassTotals& totals = pass_->Totals();
    if (totals.err != 0) {
      err_ = totals.err;
      syscall_ = "read";
    } else if (!totals.cancelled) {
      selected_ = pass_->Aggregate().Select(all_, threshold_, limit_);
    }
    elapsedMs_ = NowMs() - started;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      Callback().Call({MakeErrnoError(env, err_, syscall_).Value()});
      return;
    }
    const PassTotals& t = pass_->Totals();
    const ConnAggregate& aggregate = pass_->Aggregate();
    Napi::Object result = Napi::Object::New(env);
    result.Set("rows", static_cast<double>(t.rows));
    result.Set("headerLines", static_cast<double>(t.headerLines));
    result.Set("ipv6Rows", static_cast<double>(t.ipv6Rows));
    result.Set("mixedFamilyRows", static_cast<double>(t.mixedFamilyRows));
    result.Set("peRows", static_cast<double>(t.peRows));
    result.Set("truncated", t.truncated);
    result.Set("cancelled", t.cancelled);
    result.Set("bytesRead", static_cast<double>(t.bytesRead));
    result.Set("reads", static_cast<double>(t.reads));
    result.Set("elapsedMs", elapsedMs_);
    result.Set("memoryBytes", static_cast<double>(aggregate.MemoryBytes()));
    result.Set("problems", ProblemsToJs(env, pass_->Problems()));
    result.Set("states", StateNamesToJs(env, pass_->States()));
    const std::vector<uint64_t>& byState = aggregate.RowsByState();
    Napi::Array rowsByState = Napi::Array::New(env, byState.size());
    for (size_t i = 0; i < byState.size(); i++) rowsByState.Set(static_cast<uint32_t>(i), static_cast<double>(byState[i]));
    result.Set("rowsByState", rowsByState);
    result.Set("keys", static_cast<double>(aggregate.Size()));
    result.Set("keyBytes", static_cast<double>(aggregate.KeyBytes()));
    result.Set("counters", static_cast<double>(aggregate.CounterCount()));
    // Selected keys, packed: key bytes, then the counters (u32, host order).
    const size_t stride = aggregate.KeyBytes() + aggregate.CounterCount() * sizeof(uint32_t);
    Napi::Buffer<uint8_t> packed = Napi::Buffer<uint8_t>::New(env, selected_.size() * stride);
    uint8_t* out = packed.Data();
    for (const ConnAggregate::Handle handle : selected_) {
      aggregate.KeyOf(handle, out);
      memcpy(out + aggregate.KeyBytes(), aggregate.CountsOf(handle), aggregate.CounterCount() * sizeof(uint32_t));
      out += stride;
    }
    result.Set("selected", packed);
    result.Set("selectedCount", static_cast<double>(selected_.size()));
    Callback().Call({env.Null(), result});
  }

 private:
  ConnSource source_;
  AggregateOptions options_;
  bool all_;
  int64_t threshold_;
  size_t limit_;
  bool parallel_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::atomic<uint64_t>* progress_;
  Napi::ObjectReference progressArray_;
  std::unique_ptr<ScanPass> pass_;
  std::vector<ConnAggregate::Handle> selected_;
  int err_ = 0;
  const char* syscall_ = "open";
  double elapsedMs_ = 0;
};

}  // namespace

ConnSource ConnSourceOption(Napi::Env env, const Napi::Object& options) {
  ConnSource source;
  const Napi::Value path = options.Get("path");
  if (!path.IsString()) ThrowTypeError(env, "options.path must be a string");
  source.path = path.As<Napi::String>().Utf8Value();
  const Napi::Value netns = options.Get("netns");
  if (!netns.IsUndefined()) {
    if (!netns.IsString()) ThrowTypeError(env, "options.netns must be a string");
    source.netns = std::make_unique<std::string>(netns.As<Napi::String>().Utf8Value());
  }
  source.chunkBytes = static_cast<size_t>(NumberOption(env, options, "chunkBytes", 1 << 20, 4096, 64 << 20));
  return source;
}

Napi::Object ProblemsToJs(Napi::Env env, const ProblemLog& log) {
  Napi::Object problems = Napi::Object::New(env);
  problems.Set("total", static_cast<double>(log.Total()));
  Napi::Object byProblem = Napi::Object::New(env);
  for (size_t i = 1; i < static_cast<size_t>(RowProblem::kCount); i++) {
    const RowProblem problem = static_cast<RowProblem>(i);
    if (log.Count(problem) > 0) byProblem.Set(RowProblemName(problem), static_cast<double>(log.Count(problem)));
  }
  problems.Set("byProblem", byProblem);
  Napi::Array examples = Napi::Array::New(env, log.Examples().size());
  for (size_t i = 0; i < log.Examples().size(); i++) {
    const RowExample& example = log.Examples()[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("line", static_cast<double>(example.line));
    item.Set("problem", RowProblemName(example.problem));
    item.Set("text", Napi::Buffer<char>::Copy(env, example.text.data(), example.text.size()));
    examples.Set(static_cast<uint32_t>(i), item);
  }
  problems.Set("examples", examples);
  return problems;
}

Napi::Array StateNamesToJs(Napi::Env env, const StateTable& states) {
  Napi::Array names = Napi::Array::New(env, states.Names().size());
  for (size_t i = 0; i < states.Names().size(); i++) names.Set(static_cast<uint32_t>(i), states.Names()[i]);
  return names;
}

Napi::Value ScanConnections(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) ThrowTypeError(env, "scanConnections(options, callback)");
  const Napi::Object options = info[0].As<Napi::Object>();
  ConnSource source = ConnSourceOption(env, options);
  AggregateOptions aggregate;
  const Napi::Value states = options.Get("countStates");
  if (!states.IsUndefined()) {
    if (!states.IsArray()) ThrowTypeError(env, "options.countStates must be an array of strings");
    const Napi::Array list = states.As<Napi::Array>();
    if (list.Length() > ConnAggregate::kMaxCountStates) ThrowTypeError(env, "options.countStates holds at most 8 states");
    for (uint32_t i = 0; i < list.Length(); i++) {
      const Napi::Value name = list.Get(i);
      if (!name.IsString()) ThrowTypeError(env, "options.countStates[" + std::to_string(i) + "] must be a string");
      aggregate.countStates.push_back(name.As<Napi::String>().Utf8Value());
    }
  }
  aggregate.perService = options.Get("perService").ToBoolean().Value();
  const bool all = options.Get("all").ToBoolean().Value();
  const int64_t threshold = static_cast<int64_t>(NumberOption(env, options, "threshold", -1, -1, 4294967295.0));
  const size_t limit = static_cast<size_t>(NumberOption(env, options, "limit", 0, 0, 1e9));
  const bool parallel = NumberOption(env, options, "threads", 2, 1, 2) > 1;
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  // `progress`: a BigUint64Array the pass adds the bytes it reads to, as it reads them (for a progress display).
  std::atomic<uint64_t>* progress = nullptr;
  Napi::Object progressArray;
  const Napi::Value progressOption = options.Get("progress");
  if (!progressOption.IsUndefined()) {
    if (!progressOption.IsTypedArray() || progressOption.As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
        progressOption.As<Napi::TypedArray>().ElementLength() < 1) {
      ThrowTypeError(env, "options.progress must be a BigUint64Array");
    }
    Napi::TypedArrayOf<uint64_t> array = progressOption.As<Napi::TypedArrayOf<uint64_t>>();
    static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t) && std::atomic<uint64_t>::is_always_lock_free);
    progress = reinterpret_cast<std::atomic<uint64_t>*>(array.Data());
    progressArray = array;
  }
  auto* worker = new ScanWorker(info[1].As<Napi::Function>(), std::move(source), std::move(aggregate), all, threshold, limit, parallel, cancelled,
                                progress, progressArray);
  worker->Queue();
  return Napi::Function::New(env, [cancelled](const Napi::CallbackInfo&) { cancelled->store(true, std::memory_order_relaxed); }, "cancel");
}

}  // namespace lvskit
