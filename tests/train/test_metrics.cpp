// Metrics against values derived by hand from one fixed 3-class confusion matrix, plus the
// progress bar, epoch table, metrics.jsonl and SVG writers.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rgrid/train/report/confusion_report.hpp"
#include "rgrid/train/report/console_reporter.hpp"
#include "rgrid/train/report/curve_svg.hpp"
#include "rgrid/train/report/epoch_table.hpp"
#include "rgrid/train/metrics.hpp"
#include "rgrid/train/report/metrics_log.hpp"
#include "rgrid/train/report/progress_bar.hpp"

using namespace rgrid;

namespace {
// Confusion matrix (rows true, columns predicted):
//          p0 p1 p2
//   t0  [   5  1  0 ]   support 6
//   t1  [   2  3  1 ]   support 6
//   t2  [   0  0  0 ]   support 0, but predicted once -> precision 0 (zero_division)
// plus label 3 never seen in y_true nor y_pred (excluded from macro like sklearn).
void fixed_labels(std::vector<std::int64_t>& t, std::vector<std::int64_t>& p) {
    auto add = [&](int a, int b, int n) { for (int i = 0; i < n; ++i) t.push_back(a), p.push_back(b); };
    add(0, 0, 5); add(0, 1, 1); add(1, 0, 2); add(1, 1, 3); add(1, 2, 1);
}
}  // namespace

TEST(Metrics, ConfusionMatrixAndAccuracy) {
    std::vector<std::int64_t> t, p;
    fixed_labels(t, p);
    auto cm = metrics::confusion_matrix(t, p, 4);
    EXPECT_EQ(cm[0], (std::vector<std::size_t>{5, 1, 0, 0}));
    EXPECT_EQ(cm[1], (std::vector<std::size_t>{2, 3, 1, 0}));
    EXPECT_EQ(cm[2], (std::vector<std::size_t>{0, 0, 0, 0}));
    EXPECT_DOUBLE_EQ(metrics::accuracy(t, p), 8.0 / 12.0);
}

TEST(Metrics, PerClassByHand) {
    std::vector<std::int64_t> t, p;
    fixed_labels(t, p);
    auto pc = metrics::per_class(t, p, 4);
    // class 0: tp 5, predicted 7, true 6
    EXPECT_DOUBLE_EQ(pc[0].precision, 5.0 / 7.0);
    EXPECT_DOUBLE_EQ(pc[0].recall, 5.0 / 6.0);
    EXPECT_NEAR(pc[0].f1, 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6), 1e-15);  // = 10/13
    // class 1: tp 3, predicted 4, true 6
    EXPECT_DOUBLE_EQ(pc[1].precision, 0.75);
    EXPECT_DOUBLE_EQ(pc[1].recall, 0.5);
    EXPECT_NEAR(pc[1].f1, 0.6, 1e-15);
    // class 2: predicted once, never true -> everything 0 (zero_division=0)
    EXPECT_EQ(pc[2].precision, 0.0);
    EXPECT_EQ(pc[2].recall, 0.0);
    EXPECT_EQ(pc[2].f1, 0.0);
    EXPECT_EQ(pc[2].support, 0u);
}

TEST(Metrics, WeightedAndMacroByHand) {
    std::vector<std::int64_t> t, p;
    fixed_labels(t, p);
    auto w = metrics::precision_recall_f1(t, p, 4, metrics::Average::Weighted);
    // weights 6/12, 6/12, 0: P = (5/7 + 3/4)/2, R = (5/6 + 1/2)/2, F = (10/13 + 3/5)/2
    EXPECT_NEAR(w.precision, (5.0 / 7 + 0.75) / 2, 1e-15);
    EXPECT_NEAR(w.recall, (5.0 / 6 + 0.5) / 2, 1e-15);
    EXPECT_NEAR(w.f1, (10.0 / 13 + 0.6) / 2, 1e-15);
    // sklearn reference for this input: precision 0.7321428571, recall 0.6666666667, f1 0.6846153846
    EXPECT_NEAR(w.precision, 0.7321428571, 1e-9);
    EXPECT_NEAR(w.f1, 0.6846153846, 1e-9);
    auto m = metrics::precision_recall_f1(t, p, 4, metrics::Average::Macro);
    // macro over labels {0, 1, 2} (3 never occurs): P = (5/7 + 3/4 + 0)/3 ...
    EXPECT_NEAR(m.precision, (5.0 / 7 + 0.75) / 3, 1e-15);
    EXPECT_NEAR(m.recall, (5.0 / 6 + 0.5) / 3, 1e-15);
    EXPECT_NEAR(m.f1, (10.0 / 13 + 0.6) / 3, 1e-15);
}

TEST(Metrics, PerfectAndEmpty) {
    std::vector<std::int64_t> y{0, 1, 2, 2};
    auto s = metrics::precision_recall_f1(y, y, 3);
    EXPECT_DOUBLE_EQ(s.f1, 1.0);
    EXPECT_DOUBLE_EQ(metrics::accuracy(y, y), 1.0);
    auto e = metrics::precision_recall_f1({}, {}, 3);
    EXPECT_EQ(e.f1, 0.0);
    EXPECT_EQ(metrics::accuracy({}, {}), 0.0);
}

TEST(Metrics, BadInputsAreErrors) {
    EXPECT_THROW(metrics::accuracy({0, 1}, {0}), Error);
    try {
        metrics::confusion_matrix({0, 5}, {0, 1}, 3);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("y_true[1] = 5"), std::string::npos) << e.what();
    }
}

TEST(Metrics, ClassificationReportText) {
    std::vector<std::int64_t> t, p;
    fixed_labels(t, p);
    auto r = metrics::classification_report(t, p, {"ham", "spam", "other", "unused"});
    EXPECT_NE(r.find("precision"), std::string::npos);
    EXPECT_NE(r.find("weighted avg"), std::string::npos);
    EXPECT_NE(r.find("0.7143"), std::string::npos) << r;  // class 0 precision 5/7
    EXPECT_NE(r.find("0.6667"), std::string::npos) << r;  // accuracy
}

TEST(ProgressBar, RenderShowsStepRateEtaLoss) {
    auto line = ProgressBar::render(50, 200, 10.0, 0.53214, "train", 10);
    EXPECT_NE(line.find(" 25%|"), std::string::npos) << line;
    EXPECT_NE(line.find("50/200"), std::string::npos) << line;
    EXPECT_NE(line.find("[00:10<00:30"), std::string::npos) << line;  // 5 it/s, 150 left
    EXPECT_NE(line.find("5.00it/s"), std::string::npos) << line;
    EXPECT_NE(line.find("loss=0.5321"), std::string::npos) << line;
    std::ostringstream os;
    ProgressBar bar(os, 3, "x", /*redraw=*/false, /*line_every=*/1);
    for (std::size_t i = 1; i <= 3; ++i) bar.update(i, 1.0);
    bar.close();
    EXPECT_NE(os.str().find("3/3"), std::string::npos);
}

TEST(EpochTable, HeaderAndRows) {
    EXPECT_EQ(EpochTable::header_line(), "Epoch | Training Loss | Validation Loss | Accuracy | Precision | Recall | F1");
    std::ostringstream os;
    EpochTable t(os);
    t.row({1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4});
    t.row({2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
    std::string s = os.str();
    EXPECT_EQ(s.find("Epoch |"), 0u);
    EXPECT_NE(s.find("1     | 0.900000      | 0.800000"), std::string::npos) << s;
    EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 3);
}

TEST(MetricsLog, JsonLines) {
    EXPECT_EQ(to_json_line({{"step", std::int64_t(10)}, {"loss", 0.5}, {"kind", std::string("a\"b")}}),
              "{\"step\":10,\"loss\":0.5,\"kind\":\"a\\\"b\"}");
    EXPECT_EQ(to_json_line({{"x", std::nan("")}}), "{\"x\":null}");
    std::string path = ::testing::TempDir() + "rgrid_metrics_log.jsonl";
    {
        MetricsLog log(path);
        log.write({{"a", 1.0}});
        log.write({{"b", 2.0}});
    }
    std::ifstream f(path);
    std::string l1, l2;
    std::getline(f, l1);
    std::getline(f, l2);
    EXPECT_EQ(l1, "{\"a\":1}");
    EXPECT_EQ(l2, "{\"b\":2}");
    std::remove(path.c_str());
    EXPECT_THROW(MetricsLog("/nonexistent-dir/x.jsonl"), Error);
}

TEST(CurveSvg, SelfContainedWithSeries) {
    auto svg = curves_svg({{"Loss", "step", {{"train <loss>", {1, 2, 3}, {0.9, 0.6, 0.4}}, {"val", {3}, {0.5}}}},
                           {"Metrics", "epoch", {{"F1", {1}, {0.8}}}}});
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("train &lt;loss&gt;"), std::string::npos);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("http://", 50), std::string::npos);  // only the namespace URI
    std::size_t lines = 0;
    for (std::size_t pos = 0; (pos = svg.find("<polyline", pos)) != std::string::npos; ++pos) ++lines;
    EXPECT_EQ(lines, 3u);
    EXPECT_THROW(curves_svg({{"x", "y", {{"bad", {1, 2}, {1}}}}}), Error);
}

TEST(CurveSvg, RoundTicksAndIntegerEpochs) {
    auto t = detail::nice_ticks(0.137, 0.912, false);  // step 0.2 (raw 0.19): 0, 0.2, …, 1
    EXPECT_DOUBLE_EQ(t.step, 0.2);
    EXPECT_DOUBLE_EQ(t.first, 0.0);
    EXPECT_EQ(t.count, 6);
    auto e = detail::nice_ticks(1, 3, true);  // 3 epochs: ticks 1, 2, 3 (never 1.5)
    EXPECT_DOUBLE_EQ(e.step, 1.0);
    EXPECT_DOUBLE_EQ(e.first, 1.0);
    EXPECT_EQ(e.count, 3);
    EXPECT_DOUBLE_EQ(detail::nice_ticks(0, 1000, false).step, 250.0);
    const std::string svg = curves_svg({{"Loss per epoch", "epoch", {{"train", {1, 2, 3}, {0.9, 0.6, 0.4}}}, "loss", true}});
    for (const char* tick : {">1</text>", ">2</text>", ">3</text>", ">loss</text>"})
        EXPECT_NE(svg.find(tick), std::string::npos) << tick;
    EXPECT_EQ(svg.find(">1.5</text>"), std::string::npos);
}

TEST(EpochTable, OverfittingSpanAndNote) {
    //                      epoch train  val
    std::vector<EpochRow> rows{{1, 0.9, 0.50}, {2, 0.6, 0.40}, {3, 0.4, 0.45}, {4, 0.3, 0.52}, {5, 0.2, 0.60}};
    auto span = overfitting_span(rows);
    ASSERT_TRUE(span);
    EXPECT_EQ(span->first, 1u);   // epoch 2 …
    EXPECT_EQ(span->second, 4u);  // … to epoch 5: three rises in a row
    EXPECT_EQ(overfitting_note(rows, *span),
              "Over-fitting: validation loss rose for 3 evaluations (epoch 2 to 5: 0.4000 -> 0.6000) while training "
              "loss fell (0.6000 -> 0.2000)");
    EXPECT_FALSE(overfitting_span({rows.begin(), rows.begin() + 3}));  // one rise is not enough
    rows[3].training_loss = 0.5;  // training loss rose too: not the over-fitting pattern
    EXPECT_FALSE(overfitting_span({rows.begin(), rows.begin() + 4}));

    // The console shows it once, after the row that completes it; curves.svg notes and shades it.
    std::ostringstream os;
    TrainerCallback cb = console_reporter(os, {.redraw = false});
    std::vector<EpochRow> fit{{1, 0.9, 0.50}, {2, 0.6, 0.40}, {3, 0.4, 0.45}, {4, 0.3, 0.52}, {5, 0.2, 0.60}};
    for (const auto& r : fit) cb.on_evaluate(r, EvalReport{});
    const std::string out = os.str();
    const auto warn = out.find("  warning: Over-fitting: validation loss rose for 2 evaluations (epoch 2 to 4");
    ASSERT_NE(warn, std::string::npos) << out;
    EXPECT_LT(out.find("\n4     |"), warn);
    EXPECT_GT(out.find("\n5     |"), warn);
    EXPECT_EQ(out.find("warning", warn + 12), std::string::npos) << out;  // once
    fit[4].macro_f1 = 0.5;
    auto panels = training_curve_panels(fit, {10, 20}, {0.9, 0.5}, 10);
    ASSERT_EQ(panels.size(), 3u);
    EXPECT_TRUE(panels[1].integer_x);
    ASSERT_EQ(panels[1].notes.size(), 1u);
    EXPECT_EQ(panels[1].shade_x0, 2.0);
    EXPECT_EQ(panels[1].shade_x1, 5.0);
    ASSERT_EQ(panels[2].series.size(), 3u);
    EXPECT_EQ(panels[2].series[2].name, "macro F1");
    EXPECT_EQ(panels[2].series[2].y[4], 0.5);
    EXPECT_NE(curves_svg(panels).find("Over-fitting: validation loss rose"), std::string::npos);
}

TEST(ConfusionReport, ConsoleTableAndHeatMap) {
    const metrics::ConfusionMatrix cm{{5, 1, 0}, {2, 2, 0}, {0, 0, 0}};
    EXPECT_EQ(confusion_table(cm, {"ham", "spam", "none"}),
              "true \\ predicted |     ham |    spam |    none |   total |  recall\n"
              "-----------------+---------+---------+---------+---------+--------\n"
              "ham              |       5 |       1 |       0 |       6 |   83.3%\n"
              "spam             |       2 |       2 |       0 |       4 |   50.0%\n"
              "none             |       0 |       0 |       0 |       0 |       -\n"
              "-----------------+---------+---------+---------+---------+--------\n"
              "total            |       7 |       3 |       0 |      10 |   70.0%\n");
    const std::string svg = confusion_svg(cm, {"ham", "spam", "n<o>"}, "Test");
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    std::size_t cells = 0;
    for (std::size_t pos = 0; (pos = svg.find("<rect x=", pos)) != std::string::npos; ++pos) ++cells;
    EXPECT_EQ(cells, 9u);
    EXPECT_NE(svg.find("true spam, predicted ham: 2 (50.0%)"), std::string::npos);
    EXPECT_NE(svg.find("n&lt;o&gt;"), std::string::npos);
    EXPECT_NE(svg.find("recall 83.3%"), std::string::npos);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_THROW(confusion_table(cm, {"ham", "spam"}), Error);
}
