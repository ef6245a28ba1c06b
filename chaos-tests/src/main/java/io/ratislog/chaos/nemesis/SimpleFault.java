package io.ratislog.chaos.nemesis;

import java.util.List;

/**
 * A fault made of two actions.
 *
 * @param name     the name
 * @param nodes    the targets
 * @param note     how they were chosen
 * @param injector starts the fault
 * @param healer   ends it
 */
public record SimpleFault(String name, List<Integer> nodes, String note, Runnable injector, Runnable healer)
    implements Fault {

  @Override
  public void inject() {
    injector.run();
  }

  @Override
  public void heal() {
    healer.run();
  }
}
