package io.ratislog.client.cli;

import io.ratislog.client.Admin;
import io.ratislog.proto.AclBinding;
import io.ratislog.proto.AclOperation;
import io.ratislog.proto.AclPatternType;
import io.ratislog.proto.AclPermission;
import io.ratislog.proto.AclResourceType;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code logctl acl add|remove|list}: ACL bindings (see the protocol's AclBinding).
 *
 * <pre>
 * logctl acl add --principal alice --topic orders --operation WRITE
 * logctl acl add --principal alice --topic orders. --prefixed --operation READ
 * logctl acl add --principal bob --group billing --operation READ --deny
 * logctl acl add --principal ops --cluster --operation ALTER
 * logctl acl list [--principal alice]
 * </pre>
 */
@Command(name = "acl", mixinStandardHelpOptions = true, description = "Manage ACLs (needs ALTER/DESCRIBE on the cluster).",
    subcommands = {AclCommands.Add.class, AclCommands.Remove.class, AclCommands.ListAcls.class})
final class AclCommands implements Callable<Integer> {
  @ParentCommand
  LogCtl root;
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: add, remove or list");
  }

  Admin admin(LogCtl.BootstrapOption b, long timeoutMs) {
    return Admin.create(root.bootstrap(b), Duration.ofMillis(timeoutMs), root.channels(b));
  }

  /** Exactly one resource. */
  static final class Resource {
    @Option(names = "--topic", paramLabel = "NAME", required = true, description = "A topic (or prefix, or *).")
    String topic;
    @Option(names = "--group", paramLabel = "NAME", required = true, description = "A consumer group (or prefix, or *).")
    String group;
    @Option(names = "--cluster", required = true, description = "The cluster.")
    boolean cluster;
  }

  /** The options that make a binding. */
  static final class BindingOptions {
    @Option(names = "--principal", required = true, description = "Principal (certificate CN, token name, ANONYMOUS, or *).")
    String principal;
    @ArgGroup(exclusive = true, multiplicity = "1")
    Resource resource;
    @Option(names = "--prefixed", description = "The name is a prefix.")
    boolean prefixed;
    @Option(names = "--operation", required = true,
        description = "ALL, READ, WRITE, CREATE, DELETE, DESCRIBE or ALTER.")
    String operation;
    @Option(names = "--deny", description = "A DENY binding (default ALLOW); deny wins.")
    boolean deny;

    AclBinding binding() {
      AclOperation op;
      try {
        op = AclOperation.valueOf(operation.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        op = AclOperation.OPERATION_UNSPECIFIED;
      }
      if (op == AclOperation.OPERATION_UNSPECIFIED || op == AclOperation.UNRECOGNIZED) {
        throw new LogCtl.UsageException("--operation must be ALL, READ, WRITE, CREATE, DELETE, DESCRIBE or ALTER, got '"
            + operation + "'");
      }
      AclBinding.Builder b = AclBinding.newBuilder().setPrincipal(principal).setOperation(op)
          .setPatternType(prefixed ? AclPatternType.PREFIXED : AclPatternType.LITERAL)
          .setPermission(deny ? AclPermission.DENY : AclPermission.ALLOW);
      if (resource.topic != null) {
        b.setResourceType(AclResourceType.TOPIC).setResourceName(resource.topic);
      } else if (resource.group != null) {
        b.setResourceType(AclResourceType.GROUP).setResourceName(resource.group);
      } else {
        b.setResourceType(AclResourceType.CLUSTER).setResourceName("cluster");
      }
      return b.build();
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Add an ACL binding.")
  static final class Add implements Callable<Integer> {
    @ParentCommand
    AclCommands parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @ArgGroup(exclusive = false, multiplicity = "1")
    BindingOptions binding;
    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Give up after this long (default 30000).")
    long timeoutMs;

    @Override
    public Integer call() {
      AclBinding b = binding.binding();
      try (Admin admin = parent.admin(bootstrap, timeoutMs)) {
        admin.addAcl(b);
      }
      if (parent.root.json()) {
        parent.root.out.print(JsonOutput.write(java.util.Map.of("added", JsonOutput.acl(b))));
      } else {
        parent.root.out.println("added: " + format(b));
      }
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove an ACL binding (exactly as added).")
  static final class Remove implements Callable<Integer> {
    @ParentCommand
    AclCommands parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @ArgGroup(exclusive = false, multiplicity = "1")
    BindingOptions binding;
    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Give up after this long (default 30000).")
    long timeoutMs;

    @Override
    public Integer call() {
      AclBinding b = binding.binding();
      int removed;
      try (Admin admin = parent.admin(bootstrap, timeoutMs)) {
        removed = admin.removeAcl(b);
      }
      if (parent.root.json()) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("removed", removed > 0);
        m.put("binding", JsonOutput.acl(b));
        parent.root.out.print(JsonOutput.write(m));
      } else {
        parent.root.out.println((removed > 0 ? "removed: " : "no such binding: ") + format(b));
      }
      return removed > 0 ? 0 : LogCtl.EXIT_ERROR;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List ACL bindings.")
  static final class ListAcls implements Callable<Integer> {
    @ParentCommand
    AclCommands parent;
    @Mixin
    LogCtl.BootstrapOption bootstrap;
    @Option(names = "--principal", description = "Only this principal's bindings.")
    String principal;
    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Give up after this long (default 30000).")
    long timeoutMs;

    @Override
    public Integer call() {
      List<AclBinding> list;
      try (Admin admin = parent.admin(bootstrap, timeoutMs)) {
        list = admin.listAcls(principal);
      }
      if (parent.root.json()) {
        parent.root.out.print(JsonOutput.write(JsonOutput.aclList(list)));
        return 0;
      }
      parent.root.out.println("PRINCIPAL  PERMISSION  OPERATION  RESOURCE  PATTERN");
      for (AclBinding b : list) {
        parent.root.out.println(format(b));
      }
      return 0;
    }
  }

  /** {@code <principal>  <ALLOW|DENY>  <operation>  <TYPE>:<name>  <LITERAL|PREFIXED>}. */
  static String format(AclBinding b) {
    return b.getPrincipal() + "  " + b.getPermission() + "  " + b.getOperation() + "  " + b.getResourceType() + ":"
        + b.getResourceName() + "  " + b.getPatternType();
  }
}
