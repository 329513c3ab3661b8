// A small SVG plotter for learning curves: "nice" tick steps (1, 2, 5 x 10^k),
// one panel per quantity, a polyline with markers per series.
#include "driver/plot_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace gradc::driver {
namespace {

struct Series {
  std::string label, color;
  std::vector<double> x, y;
};

struct Panel {
  std::string title, y_label;
  std::vector<Series> series;
};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string xmlEscaped(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out;
}

/// Ticks covering [lo, hi] at a step of 1, 2 or 5 times a power of ten.
std::vector<double> ticks(double &lo, double &hi, int target) {
  if (!(hi > lo)) {
    double pad = std::fabs(lo) > 0 ? std::fabs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / target, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  std::vector<double> out;
  for (double v = lo; v <= hi + step * 1e-6; v += step)
    out.push_back(v);
  return out;
}

/// A legend of `series`, one line each, from (x, y) down.
std::string legendSvg(const std::vector<Series> &series, double x, double y) {
  std::string out;
  for (size_t k = 0; k < series.size(); ++k) {
    double ly = y + 12 + 16 * double(k);
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(x + 20) + "\" y2=\"" +
           num(ly) + "\" stroke=\"" + series[k].color + "\" stroke-width=\"2\"/>\n";
    out += "<text x=\"" + num(x + 26) + "\" y=\"" + num(ly + 4) + "\">" +
           xmlEscaped(series[k].label) + "</text>\n";
  }
  return out;
}

/// One panel at (x0, y0) of size w x h.
std::string panelSvg(const Panel &p, double x0, double y0, double w, double h) {
  const double left = 60, right = 15, top = 30, bottom = 45;
  double px = x0 + left, py = y0 + top, pw = w - left - right, ph = h - top - bottom;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  for (const Series &s : p.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
    }
  std::vector<double> yt = ticks(ylo, yhi, 5);
  if (xhi - xlo < 1) {
    xlo -= 0.5;
    xhi += 0.5;
  }
  std::vector<double> xt;
  double xstep = std::max(1.0, std::ceil((xhi - xlo) / 10));
  for (double v = std::ceil(xlo); v <= xhi; v += xstep)
    xt.push_back(v);
  auto sx = [&](double v) { return px + (v - xlo) / (xhi - xlo) * pw; };
  auto sy = [&](double v) { return py + ph - (v - ylo) / (yhi - ylo) * ph; };
  std::string out = "<g font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<text x=\"" + num(px + pw / 2) + "\" y=\"" + num(y0 + 18) +
         "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" + xmlEscaped(p.title) +
         "</text>\n";
  for (double v : yt) {
    out += "<line x1=\"" + num(px) + "\" y1=\"" + num(sy(v)) + "\" x2=\"" + num(px + pw) +
           "\" y2=\"" + num(sy(v)) + "\" stroke=\"#e0e0e0\"/>\n";
    out += "<text x=\"" + num(px - 6) + "\" y=\"" + num(sy(v) + 4) + "\" text-anchor=\"end\">" +
           num(v) + "</text>\n";
  }
  for (double v : xt) {
    out += "<line x1=\"" + num(sx(v)) + "\" y1=\"" + num(py + ph) + "\" x2=\"" + num(sx(v)) +
           "\" y2=\"" + num(py + ph + 5) + "\" stroke=\"black\"/>\n";
    out += "<text x=\"" + num(sx(v)) + "\" y=\"" + num(py + ph + 18) +
           "\" text-anchor=\"middle\">" + num(v) + "</text>\n";
  }
  out += "<rect x=\"" + num(px) + "\" y=\"" + num(py) + "\" width=\"" + num(pw) + "\" height=\"" +
         num(ph) + "\" fill=\"none\" stroke=\"black\"/>\n";
  out += "<text x=\"" + num(px + pw / 2) + "\" y=\"" + num(py + ph + 36) +
         "\" text-anchor=\"middle\">epoch</text>\n";
  out += "<text transform=\"translate(" + num(x0 + 14) + "," + num(py + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xmlEscaped(p.y_label) + "</text>\n";
  for (const Series &s : p.series) {
    std::string points;
    for (size_t i = 0; i < s.x.size(); ++i)
      points += (i ? " " : "") + num(sx(s.x[i])) + "," + num(sy(s.y[i]));
    out += "<polyline class=\"curve\" data-series=\"" + xmlEscaped(s.label) + "\" points=\"" +
           points + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\"/>\n";
    for (size_t i = 0; i < s.x.size(); ++i)
      out += "<circle cx=\"" + num(sx(s.x[i])) + "\" cy=\"" + num(sy(s.y[i])) +
             "\" r=\"3\" fill=\"" + s.color + "\"/>\n";
  }
  // The legend goes in the top or bottom corner, away from where the curves end.
  double ends = 0;
  for (const Series &s : p.series)
    ends += s.y.empty() ? 0 : (s.y.back() - ylo) / (yhi - ylo) / double(p.series.size());
  double legend_y = ends > 0.5 ? py + ph - 8 - 16 * double(p.series.size()) : py;
  out += legendSvg(p.series, px + pw - 110, legend_y);
  return out + "</g>\n";
}

Series series(const std::vector<EpochMetrics> &epochs, std::string label, std::string color,
              const std::function<double(const EpochMetrics &)> &get) {
  Series s{std::move(label), std::move(color), {}, {}};
  for (const EpochMetrics &e : epochs) {
    s.x.push_back(double(e.epoch));
    s.y.push_back(get(e));
  }
  return s;
}

} // namespace

std::string learningCurvesSvg(const std::vector<EpochMetrics> &epochs, const std::string &title) {
  std::vector<Panel> panels;
  panels.push_back(
      {"Loss",
       "loss",
       {series(epochs, "train loss", "#1f77b4", [](const EpochMetrics &e) { return e.train_loss; }),
        series(epochs, "test loss", "#ff7f0e",
               [](const EpochMetrics &e) { return e.test_loss; })}});
  bool accuracy = !epochs.empty() && epochs.front().test_accuracy >= 0;
  if (accuracy)
    panels.push_back({"Test accuracy",
                      "accuracy (%)",
                      {series(epochs, "test accuracy", "#2ca02c",
                              [](const EpochMetrics &e) { return 100 * e.test_accuracy; })}});
  const double pw = 420, ph = 320, head = 30;
  double w = pw * double(panels.size()), h = ph + head;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    num(w) + "\" height=\"" + num(h) + "\" viewBox=\"0 0 " + num(w) + " " + num(h) +
                    "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + num(w / 2) +
         "\" y=\"20\" text-anchor=\"middle\" font-family=\"sans-serif\" "
         "font-size=\"16\">" +
         xmlEscaped(title) + "</text>\n";
  for (size_t i = 0; i < panels.size(); ++i)
    out += panelSvg(panels[i], pw * double(i), head, pw, ph);
  return out + "</svg>\n";
}

} // namespace gradc::driver
