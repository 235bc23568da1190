// The fake Graph API as a program, for bench/outbound.sh: answers every send with 200 and a wamid
// and reports arrival statistics at GET /_stats. `fake_graph_api [PORT]`; stops on SIGINT/SIGTERM.
#include <csignal>
#include <iostream>

#include "FakeGraphApi.hpp"

int main(int argc, char** argv) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server's threads start
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::stoi(argv[1]) : 0);
    tawasul::test::FakeGraphApi fake(port, 32);
    std::cout << "listening on " << fake.url() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    const auto stats = fake.stats();
    std::cout << "sends=" << stats.count << " span_s=" << stats.spanSeconds << " rate=" << stats.ratePerSecond
              << " max_in_1s=" << stats.maxInOneSecond << std::endl;
    return 0;
}
