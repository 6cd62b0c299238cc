// The web UI's files (src/server/web), compiled into the binary so that `sluice server` serves
// its UI with nothing else installed. Generated at build time by embed_web.cmake.
#pragma once

#include <span>
#include <string_view>

namespace sluice::server {

struct WebAsset {
  std::string_view path;          // "/index.html", "/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view content;
};

std::span<const WebAsset> WebAssets();

}  // namespace sluice::server
