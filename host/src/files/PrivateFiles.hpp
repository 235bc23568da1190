#pragma once
// Files only the host's user may read: the database (with its -wal and -shm), the master key and
// whatever else the host stores. main() sets the umask to 077, so every file the process creates
// is 0600 and every directory 0700; these helpers hold even where the umask was not set (tests,
// embedders) and narrow files an older version left open.
#include <filesystem>

namespace tawasul::host {

// umask(077) for the whole process: call first in main(), before any thread or file exists.
void restrictNewFilesToOwner();

// Creates `directory` and any missing parents 0700; directories that already exist are left as they are.
void createPrivateDirectories(const std::filesystem::path& directory);

// Creates `file` empty and 0600 when it does not exist (an existing one is left as it is).
void createPrivateFile(const std::filesystem::path& file);

// chmod 0600 when `file` exists and its group or others may read or write it. Returns whether it changed.
bool narrowToOwner(const std::filesystem::path& file);

}  // namespace tawasul::host
