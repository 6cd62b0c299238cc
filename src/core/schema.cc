#include "core/schema.h"

namespace sluice {

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name)
      return static_cast<int>(i);
  }
  return -1;
}

std::string Schema::ToString() const {
  std::string out;
  for (const Field& field : fields_) {
    if (!out.empty())
      out += ", ";
    out += field.name;
    out += ' ';
    out += field.type.ToString();
    if (!field.nullable)
      out += " not null";
  }
  if (!primary_key_.empty()) {
    out += ", primary key (";
    for (size_t i = 0; i < primary_key_.size(); ++i) {
      if (i > 0)
        out += ", ";
      out += fields_[primary_key_[i]].name;
    }
    out += ')';
  }
  return out;
}

}  // namespace sluice
