package io.ratislog.bench;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A timeline as a PNG: acknowledged records/s on top, p99 send-to-ack latency per window below (log scale),
 * and a vertical line at every event named {@code kill...} (red) or {@code rejoined...} (green).
 */
final class TimelineChart {
  private static final int WIDTH = 1400;
  private static final int HEIGHT = 400;
  private static final Color KILL = new Color(220, 40, 40);
  private static final Color OTHER = new Color(40, 160, 70);

  private TimelineChart() {}

  static void write(Timeline timeline, String title, Path file) throws IOException {
    List<Timeline.Window> ws = timeline.windows();
    List<Double> x = new ArrayList<>();
    List<Double> rate = new ArrayList<>();
    List<Double> latX = new ArrayList<>();
    List<Double> p99 = new ArrayList<>();
    double maxRate = 1;
    double maxLat = 1;
    double minLat = Double.MAX_VALUE;
    for (Timeline.Window w : ws) {
      x.add(w.startS());
      rate.add(w.ackedPerS());
      maxRate = Math.max(maxRate, w.ackedPerS());
      if (!Double.isNaN(w.p99Ms()) && w.p99Ms() > 0) {
        latX.add(w.startS());
        p99.add(w.p99Ms());
        maxLat = Math.max(maxLat, w.p99Ms());
        minLat = Math.min(minLat, w.p99Ms());
      }
    }
    if (x.isEmpty()) {
      x.add(0.0);
      rate.add(0.0);
    }
    double end = x.get(x.size() - 1) + 1;

    XYChart top = chart(title + ": acknowledged records/s", "records/s", end);
    top.getStyler().setYAxisMin(0.0);
    line(top, "acked/s", x, rate, new Color(30, 70, 160));
    marks(top, timeline.events(), 0, maxRate * 1.05);

    XYChart bottom = chart("p99 send-to-ack latency per window (log scale)", "ms", end);
    bottom.getStyler().setYAxisLogarithmic(true);
    if (latX.isEmpty()) {
      latX.add(0.0);
      p99.add(1.0);
    }
    // Points, not a line: windows without acknowledgements (an outage) have no latency to draw.
    XYSeries lat = bottom.addSeries("p99 ms", latX, p99);
    lat.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    lat.setMarker(SeriesMarkers.CIRCLE);
    lat.setMarkerColor(new Color(120, 60, 170));
    bottom.getStyler().setMarkerSize(4);
    marks(bottom, timeline.events(), Math.max(0.01, Math.min(1, minLat) * 0.9), maxLat * 1.2);

    BufferedImage a = BitmapEncoder.getBufferedImage(top);
    BufferedImage b = BitmapEncoder.getBufferedImage(bottom);
    BufferedImage img = new BufferedImage(WIDTH, a.getHeight() + b.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.drawImage(a, 0, 0, null);
    g.drawImage(b, 0, a.getHeight(), null);
    g.dispose();
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    ImageIO.write(img, "png", file.toFile());
  }

  private static XYChart chart(String title, String yTitle, double end) {
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("seconds since start")
        .yAxisTitle(yTitle).build();
    Styler s = c.getStyler();
    s.setLegendPosition(Styler.LegendPosition.OutsideE);
    s.setChartBackgroundColor(Color.WHITE);
    c.getStyler().setXAxisMin(0.0);
    c.getStyler().setXAxisMax(end);
    return c;
  }

  private static void line(XYChart c, String name, List<Double> x, List<Double> y, Color color) {
    XYSeries s = c.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(color);
  }

  private static void marks(XYChart c, List<Timeline.Event> events, double low, double high) {
    boolean killShown = false;
    boolean otherShown = false;
    int n = 0;
    for (Timeline.Event e : events) {
      boolean kill = e.name().startsWith("kill");
      if (!kill && !e.name().startsWith("rejoined")) {
        continue;
      }
      XYSeries s = c.addSeries("event " + (n++) + " " + e.name(), new double[] {e.atS(), e.atS()},
          new double[] {low, high});
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(kill ? KILL : OTHER);
      s.setLineStyle(SeriesLines.SOLID);
      boolean show = kill ? !killShown : !otherShown;
      s.setShowInLegend(show);
      if (show) {
        s.setLabel(kill ? "kill -9 leader" : "node rejoined");
      }
      killShown |= kill;
      otherShown |= !kill;
    }
  }
}
