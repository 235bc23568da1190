#pragma once
// The lock that says an embedded SQLite database is open: a flock(2) on "<database>.lock".
#include <filesystem>

namespace tawasul::host {

// Every Runtime on a SQLite database (`serve` and every command that opens it) holds it shared for
// as long as it has the database open (several may share one file); `restore` takes it
// exclusively, so it never replaces the file under a running host or command. The kernel drops the
// lock when the process ends, however it ends: no stale lock files.
class DatabaseLock {
public:
    enum class Mode { Shared, Exclusive };
    // Tries once, without waiting; held() says whether it was granted. Throws std::runtime_error
    // when the lock file cannot be opened or created (its folder must exist).
    DatabaseLock(const std::filesystem::path& database, Mode mode);
    ~DatabaseLock();
    DatabaseLock(const DatabaseLock&) = delete;
    DatabaseLock& operator=(const DatabaseLock&) = delete;
    bool held() const { return held_; }
    static std::filesystem::path lockFile(const std::filesystem::path& database);

private:
    int fd_ = -1;
    bool held_ = false;
};

}  // namespace tawasul::host
