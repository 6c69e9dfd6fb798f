// The one translation unit that compiles Beast (separate compilation mode):
// linked by the WebSocket/HTTP I/O (bandsync_engineio_io) and the bench
// client only, not by the sessions and their unit tests.
#include <boost/beast/src.hpp>
