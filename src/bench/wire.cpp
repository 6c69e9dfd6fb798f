#include "bench/wire.hpp"

#include <charconv>
#include <cmath>

namespace bandsync::bench::wire {
namespace {

constexpr std::string_view tick_prefix = "42[\"scroll_tick\",{";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && is_space(s[i])) ++i;
}

// Past a JSON string whose opening quote is at s[i]; false when unterminated.
bool skip_string(std::string_view s, size_t& i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // whatever is escaped, it is not the closing quote
    } else if (s[i] == '"') {
      ++i;
      return true;
    }
  }
  return false;
}

// Past one JSON value starting at s[i] (not validated beyond what is needed
// to find its end: the server's JSON is well-formed, and a mistake here can
// only make scan_tick say "not a tick").
bool skip_value(std::string_view s, size_t& i) {
  if (i >= s.size()) return false;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        if (!skip_string(s, i)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          return true;
        }
      }
      ++i;
    }
    return false;
  }
  // A number or a literal: up to the next delimiter.
  size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_space(s[i])) ++i;
  return i > start;
}

// A JSON number at s[i] (moved past it), or false when it is not one.
bool read_number(std::string_view s, size_t& i, double& out) {
  if (i >= s.size() || !(s[i] == '-' || (s[i] >= '0' && s[i] <= '9'))) return false;
  auto r = std::from_chars(s.data() + i, s.data() + s.size(), out);
  if (r.ec != std::errc()) return false;
  i = static_cast<size_t>(r.ptr - s.data());
  return true;
}

}  // namespace

bool scan_tick(std::string_view s, tick_fields& out) {
  if (!s.starts_with(tick_prefix)) return false;
  double ts = std::nan(""), pos = std::nan(""), tempo = std::nan("");
  size_t i = tick_prefix.size();
  skip_space(s, i);
  if (i < s.size() && s[i] == '}') {
    ++i;  // an empty object: no fields, not a tick we can use
  } else {
    for (;;) {
      skip_space(s, i);
      if (i >= s.size() || s[i] != '"') return false;
      size_t key_start = i + 1;
      size_t key_end = s.find('"', key_start);
      if (key_end == std::string_view::npos) return false;
      std::string_view key = s.substr(key_start, key_end - key_start);
      if (key.find('\\') != std::string_view::npos) return false;  // escaped: the full parse
      i = key_end + 1;
      skip_space(s, i);
      if (i >= s.size() || s[i] != ':') return false;
      ++i;
      skip_space(s, i);
      double* target = key == "serverTimestamp" ? &ts
                       : key == "positionMs"    ? &pos
                       : key == "tempoBpm"      ? &tempo
                                                : nullptr;
      if (target && read_number(s, i, *target)) {
        // converted
      } else if (!skip_value(s, i)) {
        return false;
      } else if (target) {
        *target = std::nan("");  // present but not a number: as the JSON path reads it
      }
      skip_space(s, i);
      if (i >= s.size()) return false;
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] != '}') return false;
      ++i;
      break;
    }
  }
  skip_space(s, i);
  if (i >= s.size() || s[i] != ']') return false;  // a second argument: the full parse
  ++i;
  skip_space(s, i);
  if (i != s.size()) return false;
  if (std::isnan(ts) || std::isnan(pos)) return false;
  out.server_timestamp = ts;
  out.position_ms = pos;
  out.tempo_bpm = tempo;
  return true;
}

}  // namespace bandsync::bench::wire
