#include "db/DatabaseLock.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace tawasul::host {

std::filesystem::path DatabaseLock::lockFile(const std::filesystem::path& database) {
    return database.string() + ".lock";
}

DatabaseLock::DatabaseLock(const std::filesystem::path& database, Mode mode) {
    const std::filesystem::path file = lockFile(database);
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open the lock file " + file.string() + ": " + std::strerror(errno));
    held_ = ::flock(fd_, (mode == Mode::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0;
}

DatabaseLock::~DatabaseLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace tawasul::host
