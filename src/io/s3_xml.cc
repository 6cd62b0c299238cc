#include "io/s3_xml.h"

#include <cstdint>
#include <cstdlib>

#include <fmt/core.h>

namespace sluice::io {

namespace {

bool EndsName(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string open = fmt::format("<{}", name);
  std::string close = fmt::format("</{}>", name);
  size_t position = 0;
  while (true) {
    size_t start = xml.find(open, position);
    if (start == std::string_view::npos)
      break;
    size_t after_name = start + open.size();
    // <Key> but not <KeyCount>.
    if (after_name >= xml.size() || !EndsName(xml[after_name])) {
      position = after_name;
      continue;
    }
    size_t tag_end = xml.find('>', after_name);
    if (tag_end == std::string_view::npos)
      break;
    if (xml[tag_end - 1] == '/') {  // <Name/> or <Name attr="..."/>
      out.emplace_back();
      position = tag_end + 1;
      continue;
    }
    size_t end = xml.find(close, tag_end + 1);
    if (end == std::string_view::npos)
      break;
    out.push_back(xml.substr(tag_end + 1, end - tag_end - 1));
    position = end + close.size();
  }
  return out;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> elements = XmlElements(xml, name);
  if (elements.empty())
    return std::nullopt;
  return XmlUnescape(elements.front());
}

std::string_view XmlRootName(std::string_view xml) {
  size_t position = 0;
  while (true) {
    size_t start = xml.find('<', position);
    if (start == std::string_view::npos || start + 1 >= xml.size())
      return {};
    char next = xml[start + 1];
    if (next == '?' || next == '!') {  // declaration, comment, doctype
      size_t end = xml.find('>', start);
      if (end == std::string_view::npos)
        return {};
      position = end + 1;
      continue;
    }
    size_t end = start + 1;
    while (end < xml.size() && !EndsName(xml[end]))
      ++end;
    return xml.substr(start + 1, end - start - 1);
  }
}

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos || semicolon - i > 12) {
      out += text[i++];
      continue;
    }
    std::string_view entity = text.substr(i + 1, semicolon - i - 1);
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long code_point = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0' || code_point > 0x10FFFF) {
        out.append(text.substr(i, semicolon - i + 1));
      } else {
        AppendUtf8(static_cast<uint32_t>(code_point), out);
      }
    } else {
      out.append(text.substr(i, semicolon - i + 1));
    }
    i = semicolon + 1;
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace sluice::io
