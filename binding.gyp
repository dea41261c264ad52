{
  "targets": [
    {
      "target_name": "ziya_native",
      "sources": ["native/ziya.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "cflags": ["-O3"]
    }
  ]
}
