#pragma once
#include <string>
#include <vector>

namespace tawasul::host {

// Exit statuses: 0 done, 1 the command failed at run time, 2 misuse (arguments, configuration).
enum ExitStatus { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

int runCli(int argc, char** argv);

}  // namespace tawasul::host
