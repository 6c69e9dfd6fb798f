// The one translation unit that compiles Asio (separate compilation mode), so
// that the other units of the server stay fast to build.
#include <boost/asio/impl/src.hpp>
