#include "http/ClientAddress.hpp"

#include <stdexcept>

#include <Poco/String.h>

namespace tawasul::host {
namespace {

// An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; compare it as the IPv4 it is.
Poco::Net::IPAddress plain(const Poco::Net::IPAddress& address) {
    if (address.family() == Poco::Net::IPAddress::IPv6 && address.isIPv4Mapped())
        return Poco::Net::IPAddress(address.toString().substr(7));
    return address;
}

// "1.2.3.4", "::1", "[::1]": false for anything else (ports and obfuscated names included).
bool parseHop(std::string text, Poco::Net::IPAddress& address) {
    text = Poco::trim(text);
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 45) return false;
    if (!Poco::Net::IPAddress::tryParse(text, address)) return false;
    address = plain(address);
    return true;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
    for (const std::string& entry : entries) {
        const auto slash = entry.find('/');
        Poco::Net::IPAddress address;
        if (!Poco::Net::IPAddress::tryParse(entry.substr(0, slash), address))
            throw std::invalid_argument("'" + entry + "' is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)");
        address = plain(address);
        const unsigned bits = address.family() == Poco::Net::IPAddress::IPv4 ? 32 : 128;
        unsigned prefix = bits;
        if (slash != std::string::npos) {
            const std::string text = entry.substr(slash + 1);
            if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(text) > bits)
                throw std::invalid_argument("'" + entry + "': the prefix length must be 0-" + std::to_string(bits));
            prefix = static_cast<unsigned>(std::stoul(text));
        }
        const Poco::Net::IPAddress mask(prefix, address.family());
        networks_.push_back({address & mask, mask});
    }
}

bool TrustedProxies::trusts(const Poco::Net::IPAddress& address) const {
    const Poco::Net::IPAddress candidate = plain(address);
    for (const Network& network : networks_)
        if (network.address.family() == candidate.family() && (candidate & network.mask) == network.address) return true;
    return false;
}

std::string TrustedProxies::clientAddress(const std::string& peer, const std::string& forwardedFor) const {
    Poco::Net::IPAddress hop;
    if (networks_.empty() || forwardedFor.empty() || !parseHop(peer, hop) || !trusts(hop)) return peer;
    std::string client = hop.toString();
    std::size_t end = forwardedFor.size();
    for (std::size_t read = 0; read < kMaxHops && end > 0; ++read) {
        const auto comma = forwardedFor.rfind(',', end - 1);
        const std::size_t start = comma == std::string::npos ? 0 : comma + 1;
        if (!parseHop(forwardedFor.substr(start, end - start), hop)) break;
        client = hop.toString();
        if (!trusts(hop)) break;  // the first hop no proxy of ours wrote: the client
        if (comma == std::string::npos) break;
        end = comma;
    }
    return client;
}

}  // namespace tawasul::host
