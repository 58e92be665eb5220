// The test suite itself: ctest runs each Catch test case by its name (catch_discover_tests),
// and CMake cuts a name at ';' (its list separator). A test named with one is registered under
// the part before it, which matches no test, so ctest reports it passed without running it:
// two tests were hidden that way. Every TEST_CASE name in tests/ must reach ctest whole.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

TEST_CASE("every test case name reaches ctest whole", "[suite]") {
    static const std::regex test_case(R"re(TEST_CASE\(\s*"((?:[^"\\]|\\.)*)")re");
    std::size_t names = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(MSCAN_SOURCE_DIR) / "tests")) {
        if (entry.path().extension() != ".cpp") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const std::string s = text.str();
        for (std::sregex_iterator m(s.begin(), s.end(), test_case), end; m != end; ++m) {
            const std::string name = (*m)[1];
            ++names;
            INFO(entry.path().filename().string() << ": \"" << name << "\"");
            CHECK(name.find(';') == std::string::npos);
            CHECK(name.find('\\') == std::string::npos);
        }
    }
    CHECK(names > 100);
}
