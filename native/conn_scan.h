// layer: native (C++ addon)
// job: the connection-table scanner's JS surface: scanConnections() (aggregate on a worker thread) and the ConnReader row iterator.
#pragma once

#include <napi.h>

namespace lvskit {

/**
 * scanConnections(options, callback) → cancel(): reads the file in one streaming pass on a
 * worker thread and calls back (error, result). See src/conns/native.ts for the shapes.
 */
Napi::Value ScanConnections(const Napi::CallbackInfo& info);

/** The ConnReader class: batches of parsed rows, one batch per read(callback), parsed on a worker thread. */
Napi::Function DefineConnReader(Napi::Env env);

}  // namespace lvskit

// ---- shared by conn_scan.cc and conn_reader.cc ------------------------------------------------
#include <memory>
#include <string>

#include "conn_problems.h"

namespace lvskit {

/** Where to read: `path`, optionally inside the network namespace at `netns`, in `chunkBytes` reads. */
struct ConnSource {
  std::string path;
  std::unique_ptr<std::string> netns;
  size_t chunkBytes = 1 << 20;
};

/** Reads `path`, `netns` and `chunkBytes` from an options object; TypeError naming the field otherwise. */
ConnSource ConnSourceOption(Napi::Env env, const Napi::Object& options);

/** `{ total, byProblem: {name: count}, examples: [{line, problem, text}] }`. */
Napi::Object ProblemsToJs(Napi::Env env, const ProblemLog& log);

/** An array of the interned state names. */
Napi::Array StateNamesToJs(Napi::Env env, const StateTable& states);

}  // namespace lvskit
