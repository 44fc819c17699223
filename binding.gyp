# layer: native (C++ addon) build
# job: compile native/*.cc into build/Release/lvskit.node with N-API 8, C++17, exceptions, warnings as errors.
{
  "variables": {
    # 1 = AddressSanitizer + UndefinedBehaviorSanitizer (`npx node-gyp rebuild -- -Dsanitize=1`).
    "sanitize%": 0,
    # 1 = test-only fault injection compiled in (`-Dfault_hooks=1`, or CXXFLAGS=-DLVSKIT_FAULT_HOOKS as
    # CI's sanitizer pass does): e.g. LVSKIT_FAULT_SCAN_HELPER_ALLOC=1 fails the scanner helper's allocation.
    "fault_hooks%": 0
  },
  "targets": [
    {
      "target_name": "lvskit",
      "sources": [
        "native/addon.cc",
        "native/conn_aggregate.cc",
        "native/conn_fixed.cc",
        "native/conn_problems.cc",
        "native/conn_parse.cc",
        "native/conn_pass.cc",
        "native/conn_reader.cc",
        "native/conn_scan.cc",
        "native/constants.cc",
        "native/errno_names.cc",
        "native/errors.cc",
        "native/huge_memory.cc",
        "native/malloc_stats.cc",
        "native/netns.cc",
        "native/recv.cc",
        "native/recv_control.cc",
        "native/signal_send.cc",
        "native/sockaddr.cc",
        "native/socket.cc",
        "native/socket_poll.cc",
        "native/thread_priority.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      # Node's common.gypi strips -Werror from "cflags"; "cflags_cc" keeps it.
      "cflags_cc": [
        # node-addon-api's headers are not -Wshadow clean: treat them as system headers.
        "-isystem",
        "<!(node -p \"require('path').resolve(require('node-addon-api').include_dir)\")",
        "-std=c++17",
        "-fexceptions",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wshadow",
        "-Wconversion",
        "-Wsign-conversion",
        "-Wnon-virtual-dtor",
        "-Wold-style-cast",
        "-Wimplicit-fallthrough",
        # Only the module's registration is exported: calls between our own functions bind
        # directly (no PLT, and same-file ones may be inlined) instead of being interposable.
        "-fvisibility=hidden",
        "-fvisibility-inlines-hidden"
      ],
      "conditions": [
        ["fault_hooks==1", {
          "defines": ["LVSKIT_FAULT_HOOKS"]
        }],
        ["sanitize==1", {
          "cflags_cc": [
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
            "-O1",
            "-g"
          ],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
