// Not compiled: the host_layers_refuses test runs the layer check over this folder, where http/
// includes access/ (above it), and expects the check to name this line.
#include "access/AccessGate.hpp"
