// The Hive metastore the catalog tests talk to (scripts/test-servers.sh start-metastore): Apache
// Hive's standalone metastore in this JVM, its schema in an embedded Derby database under BASEDIR
// (DataNucleus creates the tables on first use: the schema scripts of Hive's schematool ship only
// in Hive's binary tarball, not in any jar), Thrift's binary protocol, unframed and without SASL
// (Hive's defaults), on 127.0.0.1:PORT. Once the Thrift port accepts connections, writes
// BASEDIR/ready in one rename, so that a reader sees it only when the server answers; then serves
// until SIGTERM.
//   java -cp 'classes:lib/*' MetastoreMain BASEDIR PORT
import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf.ConfVars;

public class MetastoreMain {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: MetastoreMain BASEDIR PORT");
      System.exit(2);
    }
    long started = System.nanoTime();
    File base = new File(args[0]).getAbsoluteFile();
    int port = Integer.parseInt(args[1]);
    // derby.log goes to Derby's home: BASEDIR, not the working directory.
    System.setProperty("derby.system.home", base.getPath());

    Configuration conf = MetastoreConf.newMetastoreConf();
    MetastoreConf.setVar(conf, ConfVars.CONNECT_URL_KEY,
        "jdbc:derby:;databaseName=" + new File(base, "metastore_db").getPath() + ";create=true");
    MetastoreConf.setVar(conf, ConfVars.CONNECTION_DRIVER, "org.apache.derby.jdbc.EmbeddedDriver");
    // No schematool: DataNucleus creates the schema, and nothing compares it with a version.
    MetastoreConf.setBoolVar(conf, ConfVars.AUTO_CREATE_ALL, true);
    MetastoreConf.setBoolVar(conf, ConfVars.SCHEMA_VERIFICATION, false);
    // Direct SQL's self-test runs before DataNucleus has made the tables, fails and logs a stack
    // trace on every start; JDO alone is fast enough for a handful of test tables.
    MetastoreConf.setBoolVar(conf, ConfVars.TRY_DIRECT_SQL, false);
    MetastoreConf.setBoolVar(conf, ConfVars.TRY_DIRECT_SQL_DDL, false);
    // Databases and tables without a location of their own land under BASEDIR.
    MetastoreConf.setVar(conf, ConfVars.WAREHOUSE, new File(base, "warehouse").toURI().toString());
    MetastoreConf.setVar(conf, ConfVars.WAREHOUSE_EXTERNAL,
        new File(base, "warehouse-external").toURI().toString());
    MetastoreConf.setVar(conf, ConfVars.THRIFT_BIND_HOST, "127.0.0.1");
    // A test server: no notification-API authorization, metrics, compaction or housekeeping
    // threads (they only cost start-up time and CPU on a shared machine).
    MetastoreConf.setBoolVar(conf, ConfVars.EVENT_DB_NOTIFICATION_API_AUTH, false);
    MetastoreConf.setBoolVar(conf, ConfVars.METRICS_ENABLED, false);
    MetastoreConf.setBoolVar(conf, ConfVars.COMPACTOR_INITIATOR_ON, false);
    MetastoreConf.setBoolVar(conf, ConfVars.COMPACTOR_CLEANER_ON, false);
    conf.set("hive.metastore.housekeeping.threads.on", "false");

    Thread server = new Thread(() -> {
      try {
        HiveMetaStore.startMetaStore(port, null, conf);
      } catch (Throwable e) {
        e.printStackTrace();
        System.exit(1);
      }
    }, "metastore");
    server.start();

    // startMetaStore opens the Thrift socket only after the store (Derby, the schema) is ready:
    // a connection accepted means the metastore answers.
    while (true) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        break;
      } catch (java.io.IOException notYet) {
        Thread.sleep(100);
      }
    }
    Path partial = base.toPath().resolve("ready.partial");
    Files.writeString(partial, "PORT=" + port + "\n");
    Files.move(partial, base.toPath().resolve("ready"), StandardCopyOption.ATOMIC_MOVE);
    System.out.println("Metastore ready on 127.0.0.1:" + port + " after "
        + (System.nanoTime() - started) / 1_000_000 + " ms");
    System.out.flush();
    server.join();
  }
}
