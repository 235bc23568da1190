// host::MetricsRegistry: counters, histograms and gauge families in the Prometheus text exposition format.
#include <cppunit/extensions/HelperMacros.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "metrics/MetricsRegistry.hpp"

using tawasul::host::MetricsRegistry;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
}

}  // namespace

class MetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsTest);
    CPPUNIT_TEST(testEmptyRegistry);
    CPPUNIT_TEST(testSameNameSameCounter);
    CPPUNIT_TEST(testCounterWithoutLabels);
    CPPUNIT_TEST(testCountersWithLabels);
    CPPUNIT_TEST(testFirstHelpWins);
    CPPUNIT_TEST(testHistogram);
    CPPUNIT_TEST(testHistogramWithLabels);
    CPPUNIT_TEST(testSameNameSameHistogram);
    CPPUNIT_TEST(testHistogramSumKeepsPrecision);
    CPPUNIT_TEST(testHelpAndTypeOncePerBaseName);
    CPPUNIT_TEST(testGaugesReadAtEachScrape);
    CPPUNIT_TEST(testGaugeLabelsEscaped);
    CPPUNIT_TEST(testGaugeReadersOfOneNameMakeOneFamily);
    CPPUNIT_TEST(testFailingGaugeReaderLeavesTheRest);
    CPPUNIT_TEST(testRemovedGaugesAreGone);
    CPPUNIT_TEST(testGaugeNameMustBePlain);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEmptyRegistry() {
        const MetricsRegistry metrics;
        CPPUNIT_ASSERT_EQUAL(std::string(""), metrics.render());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), metrics.counterValue("tawasul_nothing_total"));
    }

    void testSameNameSameCounter() {
        MetricsRegistry metrics;
        auto& a = metrics.counter("tawasul_jobs_total{result=\"done\"}", "Jobs finished, by result");
        auto& b = metrics.counter("tawasul_jobs_total{result=\"done\"}", "Jobs finished, by result");
        auto& other = metrics.counter("tawasul_jobs_total{result=\"failed\"}", "Jobs finished, by result");
        CPPUNIT_ASSERT(&a == &b);
        CPPUNIT_ASSERT(&a != &other);
        a.increment();
        b.increment(4);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), metrics.counterValue("tawasul_jobs_total{result=\"done\"}"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), metrics.counterValue("tawasul_jobs_total{result=\"failed\"}"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), metrics.counterValue("tawasul_jobs_total"));
    }

    void testCounterWithoutLabels() {
        MetricsRegistry metrics;
        metrics.counter("tawasul_webhooks_received_total", "Webhook POSTs received").increment(3);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tawasul_webhooks_received_total Webhook POSTs received\n"
                                         "# TYPE tawasul_webhooks_received_total counter\n"
                                         "tawasul_webhooks_received_total 3\n"),
                             metrics.render());
    }

    void testCountersWithLabels() {
        MetricsRegistry metrics;
        metrics.counter("tawasul_http_requests_total{status=\"2xx\"}", "HTTP requests, by status class").increment(7);
        metrics.counter("tawasul_http_requests_total{status=\"4xx\"}", "HTTP requests, by status class").increment();
        metrics.counter("tawasul_jobs_total{result=\"done\"}", "Jobs finished, by result").increment(2);
        metrics.counter("tawasul_jobs_total{result=\"failed\"}", "Jobs finished, by result");
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tawasul_http_requests_total HTTP requests, by status class\n"
                                         "# TYPE tawasul_http_requests_total counter\n"
                                         "tawasul_http_requests_total{status=\"2xx\"} 7\n"
                                         "tawasul_http_requests_total{status=\"4xx\"} 1\n"
                                         "# HELP tawasul_jobs_total Jobs finished, by result\n"
                                         "# TYPE tawasul_jobs_total counter\n"
                                         "tawasul_jobs_total{result=\"done\"} 2\n"
                                         "tawasul_jobs_total{result=\"failed\"} 0\n"),
                             metrics.render());
    }

    void testFirstHelpWins() {
        MetricsRegistry metrics;
        metrics.counter("x_total{a=\"1\"}", "first help");
        metrics.counter("x_total{a=\"2\"}", "second help");
        const std::string text = metrics.render();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "# HELP x_total first help\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), occurrences(text, "second help"));
    }

    void testHistogram() {
        MetricsRegistry metrics;
        auto& h = metrics.histogram("tawasul_http_request_duration_seconds", "Time from request to response",
                                    {0.25, 0.5, 1, 2.5});
        for (const double v : {0.125, 0.25, 0.5, 0.75, 3.0}) h.observe(v);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tawasul_http_request_duration_seconds Time from request to response\n"
                                         "# TYPE tawasul_http_request_duration_seconds histogram\n"
                                         "tawasul_http_request_duration_seconds_bucket{le=\"0.25\"} 2\n"
                                         "tawasul_http_request_duration_seconds_bucket{le=\"0.5\"} 3\n"
                                         "tawasul_http_request_duration_seconds_bucket{le=\"1\"} 4\n"
                                         "tawasul_http_request_duration_seconds_bucket{le=\"2.5\"} 4\n"
                                         "tawasul_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n"
                                         "tawasul_http_request_duration_seconds_sum 4.625\n"
                                         "tawasul_http_request_duration_seconds_count 5\n"),
                             metrics.render());
    }

    void testHistogramWithLabels() {
        MetricsRegistry metrics;
        auto& send = metrics.histogram("tawasul_send_seconds{provider=\"cloud_api\"}", "Send latency", {0.1, 1});
        auto& outbox = metrics.histogram("tawasul_send_seconds{provider=\"outbox\"}", "Send latency", {0.1, 1});
        send.observe(0.5);
        outbox.observe(0.0625);
        outbox.observe(0.0625);
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tawasul_send_seconds Send latency\n"
                                         "# TYPE tawasul_send_seconds histogram\n"
                                         "tawasul_send_seconds_bucket{provider=\"cloud_api\",le=\"0.1\"} 0\n"
                                         "tawasul_send_seconds_bucket{provider=\"cloud_api\",le=\"1\"} 1\n"
                                         "tawasul_send_seconds_bucket{provider=\"cloud_api\",le=\"+Inf\"} 1\n"
                                         "tawasul_send_seconds_sum{provider=\"cloud_api\"} 0.5\n"
                                         "tawasul_send_seconds_count{provider=\"cloud_api\"} 1\n"
                                         "tawasul_send_seconds_bucket{provider=\"outbox\",le=\"0.1\"} 2\n"
                                         "tawasul_send_seconds_bucket{provider=\"outbox\",le=\"1\"} 2\n"
                                         "tawasul_send_seconds_bucket{provider=\"outbox\",le=\"+Inf\"} 2\n"
                                         "tawasul_send_seconds_sum{provider=\"outbox\"} 0.125\n"
                                         "tawasul_send_seconds_count{provider=\"outbox\"} 2\n"),
                             metrics.render());
    }

    void testSameNameSameHistogram() {
        MetricsRegistry metrics;
        auto& a = metrics.histogram("h_seconds", "help", {1});
        auto& b = metrics.histogram("h_seconds", "help", {1});
        CPPUNIT_ASSERT(&a == &b);
        a.observe(2);
        b.observe(0.5);
        const std::string text = metrics.render();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_bucket{le=\"1\"} 1\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_count 2\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_sum 2.5\n"));
    }

    void testHistogramSumKeepsPrecision() {
        // A long-running host's sum grows large; it must not be rounded to 6 significant digits.
        MetricsRegistry metrics;
        auto& h = metrics.histogram("h_seconds", "help", {0.001, 1e6});
        h.observe(1234567.5);
        h.observe(0.0005);
        const std::string text = metrics.render();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_sum 1234567.5005\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_bucket{le=\"0.001\"} 1\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "h_seconds_bucket{le=\"1e+06\"} 1\n"));
    }

    void testHelpAndTypeOncePerBaseName() {
        // An unlabelled series, labelled ones, and another metric whose name extends the base name:
        // each family is written once, with all its series together under one HELP and TYPE.
        MetricsRegistry metrics;
        metrics.counter("tawasul_events_total{kind=\"message\"}", "Events").increment(2);
        metrics.counter("tawasul_events_total", "Events").increment(5);
        metrics.counter("tawasul_events_total_dropped", "Events dropped").increment(1);
        metrics.counter("tawasul_events_total{kind=\"status\"}", "Events").increment(3);
        const std::string text = metrics.render();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "# HELP tawasul_events_total Events\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "# TYPE tawasul_events_total counter\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(text, "# HELP tawasul_events_total_dropped Events dropped\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP tawasul_events_total Events\n"
                                         "# TYPE tawasul_events_total counter\n"
                                         "tawasul_events_total 5\n"
                                         "tawasul_events_total{kind=\"message\"} 2\n"
                                         "tawasul_events_total{kind=\"status\"} 3\n"
                                         "# HELP tawasul_events_total_dropped Events dropped\n"
                                         "# TYPE tawasul_events_total_dropped counter\n"
                                         "tawasul_events_total_dropped 1\n"),
                             text);
    }

    void testGaugesReadAtEachScrape() {
        MetricsRegistry metrics;
        double value = 250;
        metrics.addGauges("limit", "Limit", [&value] { return std::vector<tawasul::sdk::GaugeSample>{{{{"number", "1555"}}, value}}; });
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP limit Limit\n# TYPE limit gauge\nlimit{number=\"1555\"} 250\n"), metrics.render());
        value = std::numeric_limits<double>::infinity();
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP limit Limit\n# TYPE limit gauge\nlimit{number=\"1555\"} +Inf\n"), metrics.render());
    }

    void testGaugeLabelsEscaped() {
        // A value from outside (Meta's words) cannot end its label or start a line; a label name
        // that is not one is left out.
        MetricsRegistry metrics;
        metrics.addGauges("g", "G", [] {
            return std::vector<tawasul::sdk::GaugeSample>{{{{"a", "x\"} 1\nevil 2\\"}, {"bad name", "v"}, {"b", "ok"}}, 1}};
        });
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP g G\n# TYPE g gauge\ng{a=\"x\\\"} 1\\nevil 2\\\\\",b=\"ok\"} 1\n"), metrics.render());
    }

    void testGaugeReadersOfOneNameMakeOneFamily() {
        MetricsRegistry metrics;
        metrics.addGauges("g", "First", [] { return std::vector<tawasul::sdk::GaugeSample>{{{{"n", "1"}}, 1}}; });
        metrics.addGauges("g", "Second", [] { return std::vector<tawasul::sdk::GaugeSample>{{{{"n", "2"}}, 2}}; });
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP g First\n# TYPE g gauge\ng{n=\"1\"} 1\ng{n=\"2\"} 2\n"), metrics.render());
    }

    void testFailingGaugeReaderLeavesTheRest() {
        MetricsRegistry metrics;
        metrics.counter("c_total", "C").increment(3);
        metrics.addGauges("broken", "B", []() -> std::vector<tawasul::sdk::GaugeSample> { throw std::runtime_error("database gone"); });
        metrics.addGauges("fine", "F", [] { return std::vector<tawasul::sdk::GaugeSample>{{{}, 7}}; });
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP fine F\n# TYPE fine gauge\nfine 7\n# HELP c_total C\n# TYPE c_total counter\nc_total 3\n"),
                             metrics.render());
    }

    void testRemovedGaugesAreGone() {
        MetricsRegistry metrics;
        const auto id = metrics.addGauges("g", "G", [] { return std::vector<tawasul::sdk::GaugeSample>{{{}, 1}}; });
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(metrics.render(), "g 1\n"));
        metrics.removeGauges(id);
        CPPUNIT_ASSERT_EQUAL(std::string(), metrics.render());
        metrics.removeGauges(id);  // twice is harmless
        metrics.addGauges("none", "N", [] { return std::vector<tawasul::sdk::GaugeSample>{}; });
        CPPUNIT_ASSERT_EQUAL(std::string(), metrics.render());  // a family without series is left out
    }

    void testGaugeNameMustBePlain() {
        MetricsRegistry metrics;
        CPPUNIT_ASSERT_THROW(metrics.addGauges("g{a=\"1\"}", "G", [] { return std::vector<tawasul::sdk::GaugeSample>{}; }), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(metrics.addGauges("", "G", [] { return std::vector<tawasul::sdk::GaugeSample>{}; }), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::string(), metrics.render());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);
