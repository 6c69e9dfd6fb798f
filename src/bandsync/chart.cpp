#include "bandsync/chart.hpp"

namespace bandsync::domain {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Consumes a note name (A-G with an optional accidental) from the front of `s`.
bool take_note(std::string_view& s) {
  if (s.empty() || s.front() < 'A' || s.front() > 'G') return false;
  s.remove_prefix(1);
  if (!s.empty() && (s.front() == '#' || s.front() == 'b')) s.remove_prefix(1);
  return true;
}

// Consumes one chord-quality token from the front of `s`. Longer tokens first,
// so that "maj" is not read as "m" + "aj".
bool take_quality(std::string_view& s) {
  static constexpr std::string_view tokens[] = {
      "maj", "min", "dim", "aug", "sus", "add", "\xC2\xB0" /* ° */, "\xC3\xB8" /* ø */, "m", "M",
      "+",   "-",   "#",   "b",   "(",   ")"};
  for (auto t : tokens) {
    if (starts_with(s, t)) {
      s.remove_prefix(t.size());
      return true;
    }
  }
  if (!s.empty() && s.front() >= '0' && s.front() <= '9') {
    s.remove_prefix(1);
    return true;
  }
  return false;
}

}  // namespace

bool looks_like_chord(std::string_view s) {
  if (s == "N.C." || s == "NC" || s == "%" || s == "x") return true;
  if (!take_note(s)) return false;
  while (!s.empty() && s.front() != '/' && take_quality(s)) {
  }
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
    if (!take_note(s)) return false;
  }
  return s.empty();
}

std::optional<section> parse_marker_line(std::string_view line) {
  line = trim_blanks(line);
  if (line.size() < 3 || line.front() != '[') return std::nullopt;
  auto close = line.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view name = trim_blanks(line.substr(1, close - 1));
  std::string_view tail = trim_blanks(line.substr(close + 1));
  if (name.empty() || code_points(name) > max_section_name || looks_like_chord(name)) {
    return std::nullopt;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F || c == '[' || c == '{' || c == '}') return std::nullopt;
  }
  section out;
  out.name = std::string(name);
  if (!tail.empty()) {
    if (tail.front() != '@') return std::nullopt;
    tail = trim_blanks(tail.substr(1));
    if (tail.empty() || tail.size() > 4 || tail.front() == '0') return std::nullopt;
    uint32_t bar = 0;
    for (char c : tail) {
      if (c < '0' || c > '9') return std::nullopt;
      bar = bar * 10 + static_cast<uint32_t>(c - '0');
    }
    out.bar = bar;  // 1..9999 by the digit count and the leading-zero check
  }
  return out;
}

std::vector<section> sections_of(std::string_view chart) {
  std::vector<section> out;
  uint32_t line_no = 0;
  size_t start = 0;
  while (start <= chart.size() && out.size() < max_sections) {
    size_t end = chart.find('\n', start);
    if (end == std::string_view::npos) end = chart.size();
    if (auto s = parse_marker_line(chart.substr(start, end - start))) {
      s->line = line_no;
      out.push_back(std::move(*s));
    }
    ++line_no;
    start = end + 1;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string_view trim_blanks(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) return true;
  }
  return false;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string_view first_code_points(std::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

}  // namespace bandsync::domain
