{
  "targets": [
    {
      "target_name": "ziya_native",
      "sources": ["native/ziya.cc", "native/tensor.cc", "native/text.cc", "native/io.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp-simd", "-ffp-contract=fast", "-pthread"],
      "cflags": ["-O3"],
      "ldflags": ["-pthread"]
    }
  ]
}
