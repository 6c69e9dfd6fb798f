#pragma once
// A run's report: one JSON object, printed as aligned text on stdout and
// written whole with --json FILE.

#include <iosfwd>
#include <string>

#include <boost/json/object.hpp>

namespace bandsync::bench {

// A figure as the reports give it: rounded to three decimals.
double round3(double v);

class report {
 public:
  explicit report(std::string scenario);

  boost::json::object& root() { return root_; }
  boost::json::object& section(std::string_view name);

  // "section.key  value" lines; latency-style summaries on one line.
  void print(std::ostream& out) const;
  // False (and a message on stderr) when the file cannot be written.
  bool write_json(const std::string& path) const;

 private:
  boost::json::object root_;
};

}  // namespace bandsync::bench
