#include "bench/report.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "util/json_text.hpp"

namespace bandsync::bench {
namespace {

bool is_summary(const boost::json::object& o) {
  return o.contains("p50") && o.contains("p99") && o.contains("max");
}

std::string summary_line(const boost::json::object& o) {
  std::string s;
  for (const char* k : {"count", "mean", "p50", "p90", "p99", "p99_9", "max"}) {
    if (const auto* v = o.if_contains(k)) {
      if (!s.empty()) s += "  ";
      s += std::string(k) + " " + util::to_json_text(*v);
    }
  }
  return s;
}

void print_object(std::ostream& out, const boost::json::object& o, const std::string& prefix) {
  for (const auto& kv : o) {
    if (prefix.empty() && kv.key() == "scenario") continue;  // the title line
    std::string key = prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
    const auto& v = kv.value();
    if (v.is_object() && !is_summary(v.get_object())) {
      print_object(out, v.get_object(), key);
      continue;
    }
    // Lists of records (the rehearsal's criteria) are printed by their scenario.
    if (v.is_array() && !v.get_array().empty() && v.get_array()[0].is_object()) continue;
    if (v.is_array()) {
      for (const auto& e : v.get_array())
        out << "  " << std::left << std::setw(40) << key << ' '
            << (e.is_string() ? std::string(e.get_string()) : util::to_json_text(e)) << '\n';
      continue;
    }
    std::string text = v.is_object()   ? summary_line(v.get_object())
                       : v.is_string() ? std::string(v.get_string())
                                       : util::to_json_text(v);
    out << "  " << std::left << std::setw(40) << key << ' ' << text << '\n';
  }
}

}  // namespace

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

report::report(std::string scenario) {
  root_["scenario"] = std::move(scenario);
}

boost::json::object& report::section(std::string_view name) {
  auto& v = root_[name];
  if (!v.is_object()) v = boost::json::object{};
  return v.get_object();
}

void report::print(std::ostream& out) const {
  out << "bandsync bench " << root_.at("scenario").as_string().c_str() << "\n";
  print_object(out, root_, "");
  out.flush();
}

bool report::write_json(const std::string& path) const {
  std::ofstream f(path);
  f << util::to_json_text(root_) << '\n';
  f.close();
  if (!f) {
    std::cerr << "bandsync bench: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace bandsync::bench
