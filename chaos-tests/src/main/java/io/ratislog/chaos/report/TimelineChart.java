package io.ratislog.chaos.report;

import io.ratislog.chaos.history.Op;
import io.ratislog.chaos.history.OpKind;
import io.ratislog.chaos.history.Phase;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code timeline.png}: two stacked charts over the run's time axis, acknowledged sends per second
 * and the latency of each completed send, with every fault interval shaded.
 */
public final class TimelineChart {
  private static final int WIDTH = 1400;
  private static final int HEIGHT = 420;
  private static final Color[] FAULT_COLORS = {
      new Color(230, 60, 60, 50), new Color(240, 160, 30, 60), new Color(140, 70, 200, 50),
      new Color(60, 160, 90, 50), new Color(60, 120, 220, 50)};

  private TimelineChart() {}

  /**
   * Draws the charts.
   *
   * @param ops    the history
   * @param faults the faults
   * @param file   the PNG to write
   * @throws IOException when it cannot be written
   */
  public static void write(List<Op> ops, List<FaultInterval> faults, Path file) throws IOException {
    Map<Long, Long> invokedAt = new HashMap<>();
    List<Double> okX = new ArrayList<>();
    List<Double> okLatency = new ArrayList<>();
    List<Double> otherX = new ArrayList<>();
    List<Double> otherLatency = new ArrayList<>();
    double end = 1;
    for (Op op : ops) {
      end = Math.max(end, op.timeNs() / 1e9);
      if (op.kind() != OpKind.SEND) {
        continue;
      }
      if (op.phase() == Phase.INVOKE) {
        invokedAt.put(op.id(), op.timeNs());
        continue;
      }
      Long inv = invokedAt.get(op.id());
      if (inv == null) {
        continue;
      }
      double t = op.timeNs() / 1e9;
      double latencyMs = (op.timeNs() - inv) / 1e6;
      if (op.phase() == Phase.OK) {
        okX.add(t);
        okLatency.add(latencyMs);
      } else {
        otherX.add(t);
        otherLatency.add(latencyMs);
      }
    }
    int seconds = (int) Math.ceil(end) + 1;
    double[] secX = new double[seconds];
    double[] perSec = new double[seconds];
    for (int i = 0; i < seconds; i++) {
      secX[i] = i;
    }
    for (double t : okX) {
      perSec[(int) t]++;
    }
    double maxRate = 1;
    for (double v : perSec) {
      maxRate = Math.max(maxRate, v);
    }
    double maxLatency = 1;
    for (double v : okLatency) {
      maxLatency = Math.max(maxLatency, v);
    }
    for (double v : otherLatency) {
      maxLatency = Math.max(maxLatency, v);
    }

    XYChart rate = chart("Acknowledged sends per second (faults shaded)", "ok sends / s", end);
    shade(rate, faults, maxRate * 1.05);
    XYSeries r = rate.addSeries("ok sends/s", secX, perSec);
    r.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    r.setMarker(SeriesMarkers.NONE);
    r.setLineColor(new Color(30, 70, 160));

    XYChart lat = chart("Send latency (invocation to completion)", "latency ms", end);
    shade(lat, faults, maxLatency * 1.05);
    scatter(lat, "ok", okX, okLatency, new Color(30, 70, 160, 120));
    scatter(lat, "info/fail", otherX, otherLatency, new Color(220, 40, 40, 200));

    BufferedImage top = BitmapEncoder.getBufferedImage(rate);
    BufferedImage bottom = BitmapEncoder.getBufferedImage(lat);
    BufferedImage img = new BufferedImage(WIDTH, top.getHeight() + bottom.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.drawImage(top, 0, 0, null);
    g.drawImage(bottom, 0, top.getHeight(), null);
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static XYChart chart(String title, String yTitle, double end) {
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("seconds since start")
        .yAxisTitle(yTitle).build();
    Styler s = c.getStyler();
    s.setLegendPosition(Styler.LegendPosition.InsideNE);
    s.setChartBackgroundColor(Color.WHITE);
    c.getStyler().setXAxisMin(0.0);
    c.getStyler().setXAxisMax(end);
    c.getStyler().setYAxisMin(0.0);
    c.getStyler().setMarkerSize(3);
    return c;
  }

  private static void scatter(XYChart c, String name, List<Double> x, List<Double> y, Color color) {
    if (x.isEmpty()) {
      return;
    }
    XYSeries s = c.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    s.setMarker(SeriesMarkers.CIRCLE);
    s.setMarkerColor(color);
  }

  private static void shade(XYChart c, List<FaultInterval> faults, double top) {
    Map<String, Color> colors = new HashMap<>();
    Map<String, Boolean> inLegend = new HashMap<>();
    int n = 0;
    for (FaultInterval f : faults) {
      if (!f.isFault()) {
        continue;
      }
      double s = f.startNs() / 1e9;
      double e = (f.endNs() < 0 ? f.startNs() + 1_000_000_000L : f.endNs()) / 1e9;
      Color color = colors.computeIfAbsent(f.name(), k -> FAULT_COLORS[colors.size() % FAULT_COLORS.length]);
      XYSeries series = c.addSeries("fault " + (n++) + " " + f.name() + " " + f.nodes(),
          new double[] {s, s, e, e}, new double[] {0, top, top, 0});
      series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
      series.setMarker(SeriesMarkers.NONE);
      series.setFillColor(color);
      series.setLineColor(color);
      boolean first = inLegend.putIfAbsent(f.name(), true) == null;
      series.setShowInLegend(first);
      if (first) {
        series.setLabel(f.name());
      }
    }
  }
}
