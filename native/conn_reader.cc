// layer: native (C++ addon)
// job: ConnReader: the rows of /proc/net/ip_vs_conn (or a file in its format) in packed batches, each parsed on a worker thread.
//
// A batch is a Buffer of kRowBytes-byte records (host order):
//   0 protocol u8 | 1 family u8 | 2 destFamily u8 | 3 state index u8 | 4 clientPort u16 | 6 virtualPort u16
//   8 destPort u16 | 10 zero u16 | 12 expiresSec u32 | 16 clientAddress[16] | 32 virtualAddress[16]
//   48 destAddress[16] | 64 line u32 | 68 peOffset u32 | 72 peLength u32 | 76 zero u32
// and a Buffer of persistence-engine text that peOffset/peLength point into.
#include <unistd.h>

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "conn_scan.h"
#include "errors.h"
#include "netns.h"

namespace lvskit {
namespace {

constexpr size_t kRowBytes = 80;
constexpr size_t kMaxLineBytes = 4096;

class ConnReader : public Napi::ObjectWrap<ConnReader> {
 public:
  explicit ConnReader(const Napi::CallbackInfo& info);
  ~ConnReader() override { CloseFd(); }

  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  /** Worker side: open on first use, then parse up to batchRows_ rows into the batch. */
  void FillBatch();
  void FinishBatch(Napi::Env env, Napi::Function callback);

 private:
  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  ConnSource source_;
  size_t batchRows_;
  int fd_ = -1;
  std::unique_ptr<LineReader> lines_;
  StateTable states_;
  uint64_t line_ = 0;
  bool done_ = false;
  bool busy_ = false;
  bool closeRequested_ = false;
  // The batch being built (worker) / handed out (JS thread).
  std::vector<uint8_t> rows_;
  std::vector<char> text_;
  size_t rowCount_ = 0;
  ProblemLog problems_;
  uint64_t headerLines_ = 0;
  int err_ = 0;
  const char* syscall_ = "open";
};

class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Function callback, ConnReader* reader, Napi::Object self)
      : Napi::AsyncWorker(callback, "lvskit:ConnReader.read"), reader_(reader), self_(Napi::Persistent(self)) {}
  void Execute() override { reader_->FillBatch(); }
  void OnOK() override { reader_->FinishBatch(Env(), Callback().Value()); }

 private:
  ConnReader* reader_;
  Napi::ObjectReference self_;  // keeps the reader alive while its batch is parsed
};

ConnReader::ConnReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConnReader>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowTypeError(env, "new ConnReader(options)");
  const Napi::Object options = info[0].As<Napi::Object>();
  source_ = ConnSourceOption(env, options);
  const Napi::Value batch = options.Get("batchRows");
  batchRows_ = 4096;
  if (!batch.IsUndefined()) {
    const double n = batch.IsNumber() ? batch.As<Napi::Number>().DoubleValue() : 0;
    if (!(n >= 1 && n <= 1e6 && static_cast<double>(static_cast<size_t>(n)) == n)) ThrowTypeError(env, "options.batchRows must be an integer in 1..1000000");
    batchRows_ = static_cast<size_t>(n);
  }
}

Napi::Value ConnReader::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowTypeError(env, "read(callback)");
  if (busy_) throw Napi::Error::New(env, "ConnReader.read: a batch is already being read");
  if (closeRequested_) throw Napi::Error::New(env, "ConnReader.read: the reader is closed");
  busy_ = true;
  auto* worker = new ReadWorker(info[0].As<Napi::Function>(), this, info.This().As<Napi::Object>());
  worker->Queue();
  return env.Undefined();
}

Napi::Value ConnReader::Close(const Napi::CallbackInfo& info) {
  closeRequested_ = true;
  if (!busy_) CloseFd();
  return info.Env().Undefined();
}

void ConnReader::FillBatch() {
  rows_.clear();
  text_.clear();
  rowCount_ = 0;
  problems_ = ProblemLog();
  if (done_) return;
  if (!lines_) {
    const OpenResult file = OpenFile(source_.path, source_.netns.get());
    if (file.fd < 0) {
      err_ = file.err;
      syscall_ = file.syscall;
      done_ = true;
      return;
    }
    fd_ = file.fd;
    lines_ = std::make_unique<LineReader>(fd_, source_.chunkBytes, kMaxLineBytes);
  }
  rows_.reserve(batchRows_ * kRowBytes);
  ConnRow row;
  while (rowCount_ < batchRows_) {
    const char* begin;
    const char* end;
    const LineReader::Status status = lines_->Next(&begin, &end);
    if (status == LineReader::Status::kEnd || status == LineReader::Status::kError) {
      if (status == LineReader::Status::kError) {
        err_ = lines_->Error();
        syscall_ = "read";
      }
      done_ = true;
      CloseFd();
      return;
    }
    line_++;
    if (status == LineReader::Status::kTooLong) {
      problems_.Add(RowProblem::kTooLong, line_, begin, begin);
      continue;
    }
    if (status == LineReader::Status::kTruncated) {
      problems_.Add(RowProblem::kTruncated, line_, begin, end);
      continue;
    }
    if (IsHeaderLine(begin, end)) {
      headerLines_++;
      continue;
    }
    const RowProblem problem = ParseConnLine(begin, end, states_, row);
    if (problem != RowProblem::kNone) {
      problems_.Add(problem, line_, begin, end);
      continue;
    }
    uint8_t record[kRowBytes] = {};
    record[0] = row.protocol;
    record[1] = row.family;
    record[2] = row.destFamily;
    record[3] = row.state;
    memcpy(record + 4, &row.clientPort, 2);
    memcpy(record + 6, &row.virtualPort, 2);
    memcpy(record + 8, &row.destPort, 2);
    memcpy(record + 12, &row.expiresSec, 4);
    memcpy(record + 16, row.clientAddress, 16);
    memcpy(record + 32, row.virtualAddress, 16);
    memcpy(record + 48, row.destAddress, 16);
    const uint32_t lineNumber = static_cast<uint32_t>(line_);
    const uint32_t peOffset = static_cast<uint32_t>(text_.size());
    const uint32_t peLength = static_cast<uint32_t>(row.peLength);
    memcpy(record + 64, &lineNumber, 4);
    memcpy(record + 68, &peOffset, 4);
    memcpy(record + 72, &peLength, 4);
    if (row.peLength > 0) text_.insert(text_.end(), row.pe, row.pe + row.peLength);
    rows_.insert(rows_.end(), record, record + kRowBytes);
    rowCount_++;
  }
}

void ConnReader::FinishBatch(Napi::Env env, Napi::Function callback) {
  busy_ = false;
  if (closeRequested_) CloseFd();
  if (err_ != 0) {
    const int err = err_;
    err_ = 0;
    callback.Call({MakeErrnoError(env, err, syscall_).Value()});
    return;
  }
  Napi::Object batch = Napi::Object::New(env);
  batch.Set("rows", Napi::Buffer<uint8_t>::Copy(env, rows_.data(), rows_.size()));
  batch.Set("count", static_cast<double>(rowCount_));
  batch.Set("text", Napi::Buffer<char>::Copy(env, text_.data(), text_.size()));
  batch.Set("states", StateNamesToJs(env, states_));
  batch.Set("problems", ProblemsToJs(env, problems_));
  batch.Set("headerLines", static_cast<double>(headerLines_));
  batch.Set("bytesRead", static_cast<double>(lines_ ? lines_->BytesRead() : 0));
  batch.Set("done", done_);
  callback.Call({env.Null(), batch});
}

}  // namespace

Napi::Function DefineConnReader(Napi::Env env) {
  return ConnReader::DefineClass(env, "ConnReader",
                                 {
                                     ConnReader::InstanceMethod<&ConnReader::Read>("read"),
                                     ConnReader::InstanceMethod<&ConnReader::Close>("close"),
                                 });
}

}  // namespace lvskit
