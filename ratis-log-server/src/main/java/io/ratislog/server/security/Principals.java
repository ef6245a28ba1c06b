package io.ratislog.server.security;

import io.grpc.Context;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** The principal of the request being served, and how names are derived from certificates. */
public final class Principals {
  /** The principal of a request when authentication is off and the client presented nothing. */
  public static final String ANONYMOUS = "ANONYMOUS";
  /** Set by {@link SecurityInterceptor} for every request it lets through. */
  public static final Context.Key<String> PRINCIPAL = Context.key("ratislog-principal");

  private Principals() {
  }

  /** The principal of the current request ({@link #ANONYMOUS} outside of one). */
  public static String current() {
    String p = PRINCIPAL.get();
    return p == null ? ANONYMOUS : p;
  }

  /** The CN of a certificate's subject, or null when it has none. */
  public static String commonName(X509Certificate cert) {
    try {
      LdapName name = new LdapName(cert.getSubjectX500Principal().getName());
      String cn = null;
      for (Rdn rdn : name.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = String.valueOf(rdn.getValue());
        }
      }
      return cn;
    } catch (InvalidNameException e) {
      return null;
    }
  }

  /** The certificate name of node {@code id}. */
  public static String nodeName(int id) {
    return "node-" + id;
  }
}
