// Opens the rendered report in headless Chromium and checks the screenshot is a drawn page, not a blank or broken
// one: the page must render offline with nothing but the HTML file. Skipped when Chromium is not installed
// (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "report/render.h"
#include "tests/report/report_fixture.h"
#include "tests/support/browser.h"

namespace neuroemu::report {
namespace {

namespace fs = std::filesystem;

using ::neuroemu::test::find_on_path;
using ::neuroemu::test::Image;
using ::neuroemu::test::read_png;

// Renders `doc` into a folder of the build tree (kept for a look) and screenshots it.
Image screenshot(const nlohmann::json& doc, const std::string& name) {
    const fs::path dir = fs::path(NEUROEMU_BINARY_DIR) / "report_browser" / name;
    fs::remove_all(dir);
    write_report(doc, dir.string());
    const fs::path png = dir / "screenshot.png";
    const std::string command = "timeout 120 " + find_on_path("chromium") +
                                " --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir=" +
                                (dir / "profile").string() + " --screenshot=" + png.string() +
                                " --window-size=1280,2400 file://" + fs::absolute(dir / "report.html").string() +
                                " > " + (dir / "chromium.log").string() + " 2>&1";
    const int status = std::system(command.c_str());
    EXPECT_EQ(status, 0) << command << "\n(see " << (dir / "chromium.log").string() << ")";
    EXPECT_TRUE(fs::exists(png)) << command;
    if (!fs::exists(png)) return {};
    return read_png(png.string());
}

void expect_drawn_page(const Image& image) {
    ASSERT_EQ(image.width, 1280u);
    ASSERT_EQ(image.height, 2400u);
    const size_t n = size_t{image.width} * image.height;
    std::map<unsigned, size_t> histogram;
    for (size_t i = 0; i < n; ++i) ++histogram[image.pixel(i)];
    const auto background = std::max_element(histogram.begin(), histogram.end(),
                                              [](const auto& a, const auto& b) { return a.second < b.second; });
    const double differing = 1.0 - static_cast<double>(background->second) / static_cast<double>(n);
    EXPECT_GT(differing, 0.15) << "most of the page is one colour";
    EXPECT_GT(histogram.size(), 200u) << "too few distinct colours for a page with charts";
    // The charts' own colours: the palette's first blue (bars, lines) and viridis' ends (heat maps) fill whole
    // shapes, so they appear as exact pixel values.
    std::set<unsigned> chart_colors = {0x4e79a7, 0x76b7b2};
    size_t chart_pixels = 0;
    for (unsigned c : chart_colors) chart_pixels += histogram.count(c) ? histogram[c] : 0;
    EXPECT_GT(chart_pixels, 2000u) << "the SVG charts were not drawn";
}

class BrowserTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_on_path("chromium").empty())
            GTEST_SKIP() << "chromium is not installed (apt-get install chromium; scripts/setup.sh does it)";
    }
};

TEST_F(BrowserTest, FullReportRendersWithCharts) { expect_drawn_page(screenshot(test::full_report(), "full")); }

TEST_F(BrowserTest, ReportWithoutHardwareRenders) {
    expect_drawn_page(screenshot(test::no_hardware_report(), "no_hardware"));
}

}  // namespace
}  // namespace neuroemu::report
