// One CppUnit runner for every suite: runs all registered tests, or those named on the command line.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <iostream>

int main(int argc, char** argv) {
    CppUnit::TestResult controller;
    CppUnit::TestResultCollector result;
    controller.addListener(&result);
    CppUnit::BriefTestProgressListener progress;
    controller.addListener(&progress);
    CppUnit::TestRunner runner;
    runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
    try {
        if (argc > 1) {
            for (int i = 1; i < argc; ++i) runner.run(controller, argv[i]);
        } else {
            runner.run(controller);
        }
    } catch (const std::invalid_argument& error) {
        std::cerr << "no such test: " << error.what() << "\n";
        return 2;
    }
    CppUnit::CompilerOutputter(&result, std::cerr).write();
    if (result.runTests() == 0) {
        std::cerr << "no test ran\n";
        return 1;
    }
    std::cout << result.runTests() - result.testFailuresTotal() << " passed, " << result.testFailuresTotal() << " failed\n";
    return result.wasSuccessful() ? 0 : 1;
}
