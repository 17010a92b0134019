{
  "targets": [
    {
      "target_name": "tcp_intercept",
      "sources": [
        "addon/module.cc",
        "addon/engine.cc",
        "addon/engine-wrap.cc",
        "addon/event-record.cc",
        "addon/tables.cc",
        "addon/notify.cc",
        "addon/config-parse.cc",
        "addon/js-fields.cc",
        "addon/pipe-pool.cc",
        "addon/tsock.cc",
        "addon/leg-options.cc",
        "addon/inet.cc",
        "addon/sys-error.cc",
        "addon/nfq-socket.cc",
        "addon/nfq-wrap.cc",
        "addon/raw-socket.cc"
      ],
      "libraries": ["-lnetfilter_queue", "-lmnl"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fstack-protector-strong"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
