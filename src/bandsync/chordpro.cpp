#include "bandsync/chordpro.hpp"

#include "bandsync/chart.hpp"

namespace bandsync::domain {
namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "96", "96.5", "96 bpm": a decimal with at most 3 + 3 digits, so the value
// is exact enough and the parse cannot overflow.
std::optional<double> parse_tempo(std::string_view v) {
  std::string lower = lower_ascii(v);
  std::string_view s = lower;
  if (s.size() > 3 && s.substr(s.size() - 3) == "bpm") s = trim_blanks(s.substr(0, s.size() - 3));
  double whole = 0;
  size_t digits = 0;
  while (!s.empty() && s.front() >= '0' && s.front() <= '9' && digits < 3) {
    whole = whole * 10 + (s.front() - '0');
    s.remove_prefix(1);
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    double scale = 0.1;
    size_t frac = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9' && frac < 3) {
      whole += (s.front() - '0') * scale;
      scale /= 10;
      s.remove_prefix(1);
      ++frac;
    }
    if (frac == 0) return std::nullopt;
  }
  if (!s.empty() || whole < min_song_tempo || whole > max_song_tempo) return std::nullopt;
  return whole;
}

// "n/d" with n in 1..16 and d a power of two up to 32: beats per bar = n.
std::optional<int> parse_time(std::string_view v) {
  auto slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto small_int = [](std::string_view s) -> std::optional<int> {
    s = trim_blanks(s);
    if (s.empty() || s.size() > 2) return std::nullopt;
    int n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  auto n = small_int(v.substr(0, slash));
  auto d = small_int(v.substr(slash + 1));
  if (!n || !d || *n < min_beats_per_bar || *n > max_beats_per_bar) return std::nullopt;
  if (*d != 1 && *d != 2 && *d != 4 && *d != 8 && *d != 16 && *d != 32) return std::nullopt;
  return n;
}

// The environments that become section markers, with their default names.
struct environment {
  std::string_view long_start, short_start, name;
};
constexpr environment environments[] = {
    {"start_of_chorus", "soc", "Chorus"}, {"start_of_verse", "sov", "Verse"},
    {"start_of_bridge", "sob", "Bridge"}, {"start_of_tab", "sot", "Tab"},
    {"start_of_grid", "sog", "Grid"},
};
constexpr std::string_view environment_ends[] = {
    "end_of_chorus", "eoc",        "end_of_verse", "eov",         "end_of_bridge",
    "eob",           "end_of_tab", "eot",          "end_of_grid", "eog",
};
// Directives whose value becomes a plain chart line.
constexpr std::string_view text_directives[] = {
    "subtitle", "st", "comment", "c", "comment_italic", "ci", "comment_box", "cb", "highlight",
};

template <size_t N>
bool one_of(std::string_view name, const std::string_view (&names)[N]) {
  for (auto n : names) {
    if (n == name) return true;
  }
  return false;
}

class importer {
 public:
  std::variant<imported_song, import_error> run(std::string_view text) {
    if (text.size() > max_import_bytes) {
      return import_error{"text must be at most " + std::to_string(max_import_bytes) + " bytes"};
    }
    if (!valid_utf8(text)) return import_error{"text must be valid UTF-8"};
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++line_no_;
      line(text.substr(start, end - start));
      if (chart_.size() > max_chart_bytes) {
        return import_error{"the chart would be more than " + std::to_string(max_chart_bytes) +
                            " bytes"};
      }
      start = end + 1;
    }
    while (!chart_.empty() && chart_.back() == '\n') chart_.pop_back();
    if (!have_title_) {
      song_.title = "Untitled";
      warn_plain("no {title}: the song is called \"Untitled\"");
    }
    if (extra_warnings_ > 0) {
      song_.warnings.push_back("and " + std::to_string(extra_warnings_) + " more warnings");
    }
    song_.chart = std::move(chart_);
    return std::move(song_);
  }

 private:
  void line(std::string_view raw) {
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && raw.front() == '#') return;  // a ChordPro comment: never shown
    std::string_view t = trim_blanks(raw);
    if (t.size() >= 2 && t.front() == '{' && t.back() == '}') {
      directive(t.substr(1, t.size() - 2));
      return;
    }
    emit(raw);
  }

  void directive(std::string_view inner) {
    inner = trim_blanks(inner);
    size_t split = inner.find_first_of(": \t");
    std::string name = lower_ascii(trim_blanks(inner.substr(0, split)));
    std::string_view value;
    if (split != std::string_view::npos) {
      value = trim_blanks(inner.substr(split));
      if (!value.empty() && value.front() == ':') value = trim_blanks(value.substr(1));
    }
    if (name == "title" || name == "t") {
      title(value);
    } else if (name == "key") {
      if (value.empty() || code_points(value) > max_key_length || has_control_chars(value)) {
        warn("{key} must be 1 to 8 characters; ignored");
      } else {
        song_.key = std::string(value);
      }
    } else if (name == "tempo") {
      if (auto t = parse_tempo(value)) {
        song_.tempo = t;
      } else {
        warn("{tempo} must be a number from 20 to 300; ignored");
      }
    } else if (name == "time") {
      if (auto b = parse_time(value)) {
        song_.beats_per_bar = b;
      } else {
        warn("{time} must be n/d with n from 1 to 16 and d 1, 2, 4, 8, 16 or 32; ignored");
      }
    } else if (one_of(name, text_directives)) {
      if (!value.empty()) emit(value);
    } else if (name == "chorus") {
      emit("[Chorus]");
    } else if (one_of(name, environment_ends)) {
      // Sections end where the next one starts: nothing to write.
    } else if (!start_environment(name, value)) {
      // The name is echoed bounded, so warnings stay small whatever the input.
      warn("{" + std::string(first_code_points(name, 32)) + "} is not understood; ignored");
    }
  }

  void title(std::string_view value) {
    if (have_title_) {
      warn("a second {title} is ignored");
      return;
    }
    if (value.empty() || has_control_chars(value)) {
      warn("{title} is empty or holds control characters; ignored");
      return;
    }
    if (code_points(value) > max_title_length) {
      value = first_code_points(value, max_title_length);
      warn("{title} is cut to 200 characters");
    }
    song_.title = std::string(value);
    have_title_ = true;
  }

  bool start_environment(std::string_view name, std::string_view label) {
    for (const auto& e : environments) {
      if (name != e.long_start && name != e.short_start) continue;
      if (label.empty()) {
        emit("[" + std::string(e.name) + "]");
        return true;
      }
      // "{soc: Chorus 2}" -> "[Chorus 2]"; "{soc: Chorus 2 @17}" -> "[Chorus 2] @17"
      // (the bar form first: "Chorus 2 @17" would also pass as a name).
      std::string marker;
      if (auto at = label.rfind('@'); at != std::string_view::npos) {
        marker = "[" + std::string(trim_blanks(label.substr(0, at))) + "] " +
                 std::string(label.substr(at));
      }
      if (marker.empty() || !parse_marker_line(marker)) marker = "[" + std::string(label) + "]";
      if (!parse_marker_line(marker)) {
        warn("the label of {" + std::string(name) + "} is not a section name; \"" +
             std::string(e.name) + "\" is used");
        marker = "[" + std::string(e.name) + "]";
      }
      emit(marker);
      return true;
    }
    return false;
  }

  void emit(std::string_view text) {
    if (chart_.empty() && trim_blanks(text).empty()) return;  // no leading blank lines
    chart_.append(text);
    chart_.push_back('\n');
  }

  void warn(std::string message) {
    warn_plain("line " + std::to_string(line_no_) + ": " + message);
  }

  void warn_plain(std::string message) {
    if (song_.warnings.size() < max_import_warnings) {
      song_.warnings.push_back(std::move(message));
    } else {
      ++extra_warnings_;
    }
  }

  imported_song song_;
  std::string chart_;
  size_t line_no_ = 0;
  size_t extra_warnings_ = 0;
  bool have_title_ = false;
};

}  // namespace

std::variant<imported_song, import_error> import_chordpro(std::string_view text) {
  return importer{}.run(text);
}

}  // namespace bandsync::domain
