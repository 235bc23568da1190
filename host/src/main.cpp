#include "cli/Cli.hpp"

int main(int argc, char** argv) { return tawasul::host::runCli(argc, argv); }
