#pragma once
// Who the client is when the host sits behind a reverse proxy. Only a peer named in
// `server.trusted_proxies` may say, in X-Forwarded-For, whom it forwards for; from anyone else the
// header is ignored, so a client cannot pick the address the sign-in throttle, the logs and the
// /metrics allow-list see.
#include <string>
#include <vector>

#include <Poco/Net/IPAddress.h>

namespace tawasul::host {

class TrustedProxies {
public:
    TrustedProxies() = default;
    // Each entry an address ("10.0.0.5", "::1") or a network ("10.0.0.0/8", "fd00::/8").
    // Throws std::invalid_argument naming the entry at fault.
    explicit TrustedProxies(const std::vector<std::string>& entries);

    bool empty() const { return networks_.empty(); }
    bool trusts(const Poco::Net::IPAddress& address) const;

    // The client's address: the peer itself unless the peer is trusted; then the rightmost hop of
    // X-Forwarded-For (all its values, in order, joined by commas) that is not a trusted proxy.
    // A hop that is not an address ends the walk at the last trusted one: what lies left of
    // garbage was not written by a proxy we know. At most kMaxHops hops are read, from the right.
    std::string clientAddress(const std::string& peer, const std::string& forwardedFor) const;

    static constexpr std::size_t kMaxHops = 32;

private:
    struct Network {
        Poco::Net::IPAddress address;
        Poco::Net::IPAddress mask;
    };
    std::vector<Network> networks_;
};

}  // namespace tawasul::host
