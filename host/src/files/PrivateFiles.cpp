#include "files/PrivateFiles.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <system_error>
#include <vector>

namespace tawasul::host {

namespace fs = std::filesystem;

void restrictNewFilesToOwner() { ::umask(077); }

void createPrivateDirectories(const fs::path& directory) {
    if (directory.empty()) return;
    // The missing levels, outermost first, so that each is created and narrowed before its child.
    std::vector<fs::path> missing;
    for (fs::path level = directory; !level.empty() && !fs::exists(level); level = level.parent_path()) {
        missing.push_back(level);
        if (level == level.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        std::error_code error;
        if (fs::create_directory(*it, error)) fs::permissions(*it, fs::perms::owner_all, fs::perm_options::replace);
        else if (error) throw fs::filesystem_error("cannot create the directory", *it, error);
    }
}

void createPrivateFile(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::fchmod(fd, 0600);  // whatever the umask
        ::close(fd);
    } else if (errno != EEXIST) {
        throw fs::filesystem_error("cannot create the file", file, std::error_code(errno, std::generic_category()));
    }
}

bool narrowToOwner(const fs::path& file) {
    std::error_code error;
    const auto status = fs::status(file, error);
    if (error || !fs::is_regular_file(status)) return false;
    constexpr auto others = fs::perms::group_all | fs::perms::others_all;
    if ((status.permissions() & others) == fs::perms::none) return false;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    return true;
}

}  // namespace tawasul::host
