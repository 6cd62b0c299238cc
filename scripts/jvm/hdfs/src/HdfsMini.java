// The HDFS the WebHDFS tests talk to (scripts/test-servers.sh start-hdfs): a MiniDFSCluster with
// one NameNode and one DataNode in this JVM, every socket on 127.0.0.1 and a free port, its data
// under BASEDIR. Once the cluster is up, writes BASEDIR/ports.env (NN_RPC_PORT, NN_HTTP_PORT,
// DN_HTTP_PORT) in one rename, so that a reader sees all of it or nothing; then runs until
// SIGTERM, which shuts the cluster down.
//   java -cp 'classes:lib/*' HdfsMini BASEDIR
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public class HdfsMini {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: HdfsMini BASEDIR");
      System.exit(2);
    }
    long started = System.nanoTime();
    File base = new File(args[0]).getAbsoluteFile();
    Configuration conf = new Configuration();
    // Data and scratch space in BASEDIR, not under the working directory.
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, new File(base, "dfs").getPath());
    conf.set("hadoop.tmp.dir", new File(base, "tmp").getPath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    // Tests write as any user.name; ownership is not what they check.
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.set("hadoop.security.authentication", "simple");
    // Loopback only, every port free. The DataNode's own name is what the NameNode's 307
    // redirects point to: without this it would be the machine's host name.
    conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    conf.set("dfs.datanode.hostname", "127.0.0.1");
    conf.setBoolean("dfs.datanode.use.datanode.hostname", false);
    conf.setBoolean("dfs.client.use.datanode.hostname", false);
    // One DataNode: one replica. Small blocks, so that a test file of a few MiB spans blocks.
    conf.setInt("dfs.replication", 1);
    conf.setLong("dfs.blocksize", 1048576);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    // The DataNode learns of block recoveries (after a truncate inside a block) at its
    // heartbeat: every second instead of every 3 s.
    conf.setLong("dfs.heartbeat.interval", 1);
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf)
        .numDataNodes(1)
        .nameNodePort(0)
        .nameNodeHttpPort(0)
        .format(true)
        .checkDataNodeHostConfig(true)
        .build();
    cluster.waitActive();
    Runtime.getRuntime().addShutdownHook(new Thread(cluster::shutdown));
    String ports = "NN_RPC_PORT=" + cluster.getNameNodePort() + "\n"
        + "NN_HTTP_PORT=" + cluster.getNameNode().getHttpAddress().getPort() + "\n"
        + "DN_HTTP_PORT=" + cluster.getDataNodes().get(0).getInfoPort() + "\n";
    Path partial = base.toPath().resolve("ports.env.partial");
    Files.writeString(partial, ports);
    Files.move(partial, base.toPath().resolve("ports.env"), StandardCopyOption.ATOMIC_MOVE);
    System.out.println("HDFS ready after " + (System.nanoTime() - started) / 1_000_000 + " ms");
    System.out.print(ports);
    System.out.flush();
    Thread.currentThread().join();
  }
}
