#include "verify/differences.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sluice::verify {

namespace {

// A row text element for people: "NULL" or the value.
std::string ShowElement(const std::string& element) {
  return element == connectors::kDigestNullElement ? std::string("NULL") : element.substr(1);
}

// "id=7" / "a=x, b=2" from a key text; "row (...)" for keyless streams, whose key is the row.
std::string DescribeKey(const Schema& schema, const StreamPlan& plan, const std::string& key) {
  std::vector<std::string> parts = connectors::SplitDigestText(key);
  std::string out;
  if (plan.key.empty()) {
    out = "row (";
    for (size_t i = 0; i < parts.size() && i < schema.num_fields(); ++i) {
      if (i > 0)
        out += ", ";
      out += fmt::format("{}={}", schema.field(i).name, ShowElement(parts[i]));
    }
    return out + ")";
  }
  for (size_t i = 0; i < parts.size() && i < plan.key.size(); ++i) {
    if (i > 0)
      out += ", ";
    out += fmt::format("{}={}", schema.field(plan.key[i]).name, parts[i]);
  }
  return out;
}

// Folds differing integer keys into runs ("id 5..9 (5 rows)"); other keys are listed.
std::vector<std::string> FoldRanges(const Schema& schema, const StreamPlan& plan,
                                    const std::vector<std::string>& keys, size_t limit) {
  std::vector<std::string> out;
  bool integer_key = plan.key.size() == 1 && schema.field(plan.key[0]).type.is_integer();
  if (!integer_key) {
    for (const std::string& key : keys) {
      if (out.size() >= limit)
        break;
      out.push_back(DescribeKey(schema, plan, key));
    }
    return out;
  }
  std::vector<__int128> values;
  for (const std::string& key : keys) {
    Result<__int128> value = connectors::ParseInt128(key);
    if (value.ok())
      values.push_back(*value);
  }
  std::sort(values.begin(), values.end());
  const std::string& name = schema.field(plan.key[0]).name;
  for (size_t i = 0; i < values.size() && out.size() < limit;) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1)
      ++j;
    if (i == j) {
      out.push_back(fmt::format("{} {}", name, connectors::Int128ToString(values[i])));
    } else {
      out.push_back(fmt::format("{} {}..{} ({} rows)", name, connectors::Int128ToString(values[i]),
                                connectors::Int128ToString(values[j]), j - i + 1));
    }
    i = j + 1;
  }
  return out;
}

}  // namespace

std::set<size_t> NarrowedBuckets(const SideDigest& a, const SideDigest& b,
                                 const std::set<size_t>& differing, size_t max_rows,
                                 bool* truncated) {
  std::set<size_t> chosen;
  uint64_t rows = 0;
  for (size_t bucket : differing) {
    uint64_t more = std::max(a.counts[bucket].load(), b.counts[bucket].load());
    if (!chosen.empty() && rows + more > max_rows) {
      *truncated = true;
      break;
    }
    chosen.insert(bucket);
    rows += more;
  }
  return chosen;
}


void CompareCollectedRows(const Schema& schema, const StreamPlan& plan, const SideDigest& source,
                          const SideDigest& target, const VerifyOptions& options,
                          StreamReport* stream) {
  const auto& source_rows = source.collected;
  const auto& target_rows = target.collected;
  std::vector<std::string> differing_keys;
  std::set<std::string> keys;
  for (const auto& [key, row] : source_rows)
    keys.insert(key);
  for (const auto& [key, row] : target_rows)
    keys.insert(key);
  for (const std::string& key : keys) {
    auto [s_begin, s_end] = source_rows.equal_range(key);
    auto [t_begin, t_end] = target_rows.equal_range(key);
    std::multiset<std::string> s_set;
    std::multiset<std::string> t_set;
    for (auto it = s_begin; it != s_end; ++it)
      s_set.insert(it->second);
    for (auto it = t_begin; it != t_end; ++it)
      t_set.insert(it->second);
    if (s_set == t_set)
      continue;
    differing_keys.push_back(key);
    if (t_set.empty()) {
      stream->missing_count += s_set.size();
      if (stream->missing_in_target.size() < options.max_examples)
        stream->missing_in_target.push_back(DescribeKey(schema, plan, key));
    } else if (s_set.empty()) {
      stream->extra_count += t_set.size();
      if (stream->extra_in_target.size() < options.max_examples)
        stream->extra_in_target.push_back(DescribeKey(schema, plan, key));
    } else if (s_set.size() != t_set.size()) {
      // Same key, different number of rows: duplicates on one side.
      ++stream->different_count;
      if (stream->different.size() < options.max_examples) {
        stream->different.push_back(fmt::format("{}: {} row(s) in the source, {} in the target",
                                                DescribeKey(schema, plan, key), s_set.size(),
                                                t_set.size()));
      }
    } else {
      ++stream->different_count;
      if (stream->different.size() < options.max_examples) {
        std::vector<std::string> a = connectors::SplitDigestText(*s_set.begin());
        std::vector<std::string> b = connectors::SplitDigestText(*t_set.begin());
        std::string columns;
        for (size_t f = 0; f < a.size() && f < b.size() && f < schema.num_fields(); ++f) {
          if (a[f] == b[f])
            continue;
          if (!columns.empty())
            columns += "; ";
          auto shown = [](const std::string& element) {
            return element == connectors::kDigestNullElement
                       ? std::string("NULL")
                       : "'" + element.substr(1, 80) + "'";
          };
          columns += fmt::format("{} {} in the source, {} in the target", schema.field(f).name,
                                 shown(a[f]), shown(b[f]));
        }
        stream->different.push_back(fmt::format("{}: {}", DescribeKey(schema, plan, key), columns));
      }
    }
  }
  stream->differing_ranges = FoldRanges(schema, plan, differing_keys, options.max_examples);
}


}  // namespace sluice::verify
