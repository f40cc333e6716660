#!/usr/bin/env bash
# Copy the pinned JS libraries from node_modules/ into static/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=static/vendor
rm -rf "$dest" && mkdir -p "$dest/zxing-wasm"
cp node_modules/zxing-wasm/dist/iife/reader/index.js "$dest/zxing-wasm/reader.js"
cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm "$dest/zxing-wasm/zxing_reader.wasm"
mkdir -p "$dest/echarts"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/echarts.min.js"
