#include "cli/Cli.hpp"
#include "files/PrivateFiles.hpp"

int main(int argc, char** argv) {
    // Before anything is opened: the database, its -wal and -shm, the master key and stored files
    // are the timeline, sessions and secrets, for the host's user only (0600 files, 0700 folders).
    tawasul::host::restrictNewFilesToOwner();
    return tawasul::host::runCli(argc, argv);
}
