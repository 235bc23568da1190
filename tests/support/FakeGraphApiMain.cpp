// The fake Graph API as a program, for bench/outbound.sh: answers every send with 200 and a wamid
// and reports arrival statistics at GET /_stats. `fake_graph_api [PORT]`; stops on SIGINT/SIGTERM.
// --help prints the usage and exits 0; a bad argument exits 2 with a one-line reason.
#include <charconv>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include "FakeGraphApi.hpp"

namespace {

constexpr const char* kUsage =
    "usage: fake_graph_api [PORT]\n"
    "  Serves a fake WhatsApp Graph API on 127.0.0.1:PORT (0 or none: a free port, printed) until\n"
    "  SIGINT or SIGTERM, then prints the arrival statistics of the sends it answered.\n";

int misuse(const std::string& reason) {
    std::cerr << "fake_graph_api: " << reason << " (see fake_graph_api --help)\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::cout << kUsage;
        return 0;
    }
    if (argc > 2) return misuse("expected at most one argument, the port");
    unsigned port = 0;
    if (argc == 2) {
        const std::string text = argv[1];
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || error != std::errc() || end != text.data() + text.size() || port > 65535)
            return misuse("'" + text + "' is not a port (0 to 65535)");
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server's threads start
    try {
        tawasul::test::FakeGraphApi fake(static_cast<std::uint16_t>(port), 32);
        std::cout << "listening on " << fake.url() << std::endl;
        int received = 0;
        sigwait(&signals, &received);
        const auto stats = fake.stats();
        std::cout << "sends=" << stats.count << " span_s=" << stats.spanSeconds << " rate=" << stats.ratePerSecond
                  << " max_in_1s=" << stats.maxInOneSecond << std::endl;
    } catch (const std::exception& error) {
        std::cerr << "fake_graph_api: " << error.what() << "\n";
        return 1;
    }
    return 0;
}
