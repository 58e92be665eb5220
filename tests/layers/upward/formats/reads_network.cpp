// Fixture for the layer check (tests/CMakeLists.txt): a parser that reaches up into the network
// layer. cmake/check_layers.cmake must reject it; this file is never compiled.
#include "io/reader.h"
#include "net/http.h"
