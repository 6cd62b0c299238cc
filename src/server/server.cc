#include "server/server.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/registry.h"
#include "core/logging.h"
#include "lineage/emitter.h"
#include "server/alerts.h"
#include "server/api.h"
#include "server/definitions.h"
#include "server/metrics_export.h"
#include "server/reporters.h"
#include "server/run_manager.h"
#include "server/scheduler.h"
#include "server/server_store.h"
#include "server/web_assets.h"

namespace sluice::server {

namespace {

constexpr std::string_view kComponent = "server";
constexpr const char* kDefaultTeam = "default";

Result<std::pair<std::string, int>> SplitListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return InvalidConfig(fmt::format("--listen '{}' must be HOST:PORT", listen));
  const std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535)
    return InvalidConfig(fmt::format("--listen '{}': the port must be 0-65535", listen));
  return std::make_pair(listen.substr(0, colon), static_cast<int>(port));
}

Status WriteSecretFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return ErrnoStatus("Cannot create", path, errno);
  const ssize_t written = ::write(fd, content.data(), content.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(content.size()))
    return IoError(fmt::format("cannot write '{}'", path));
  return Status::OK();
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(const connectors::ConnectorRegistry& registry) : registry(registry) {}

  const connectors::ConnectorRegistry& registry;
  ServerOptions options;
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<RunManager> runs;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<MetricsExport> metrics;
  std::unique_ptr<CatalogRecorder> catalog;
  std::unique_ptr<LineageReporter> lineage;
  std::unique_ptr<AlertEvaluator> alerts;
  ApiContext api;
  httplib::Server http;
  std::thread http_thread;
  std::string host;
  int port = 0;
  std::string new_admin_token;
  bool shut_down = false;

  // The schedule of one stored job; nullopt when it has none or cannot be read now.
  std::optional<ScheduleEntry> ScheduleOf(const JobRecord& record) {
    Result<config::JobConfig> job =
        LoadServerJob(store.get(), registry, record.team, record.yaml, "job " + record.name);
    if (!job.ok()) {
      // A connection it needs was removed since: its schedule waits until it is fixed.
      log::Warn(kComponent, "job '{}' of team '{}' is not scheduled: {}", record.name,
                record.team, job.status().message());
      return std::nullopt;
    }
    if (!job->schedule)
      return std::nullopt;
    ScheduleEntry entry{record.team, record.name, std::nullopt, job->schedule->after,
                        std::nullopt};
    if (!job->schedule->cron.empty()) {
      Result<CronSchedule> cron = CronSchedule::Parse(
          job->schedule->cron, job->schedule->time_zone.empty() ? "UTC" : job->schedule->time_zone);
      if (!cron.ok())
        return std::nullopt;  // checked when the job was stored; a tz database change could do this
      entry.cron = std::move(*cron);
    }
    return entry;
  }

  Result<std::vector<ScheduleEntry>> LoadSchedules() {
    SLUICE_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store->ListJobs(""));
    std::vector<ScheduleEntry> entries;
    for (const JobRecord& record : jobs) {
      if (std::optional<ScheduleEntry> entry = ScheduleOf(record))
        entries.push_back(std::move(*entry));
    }
    return entries;
  }

  Result<std::optional<ScheduleEntry>> LoadSchedule(const std::string& team,
                                                    const std::string& name) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> record, store->GetJob(team, name));
    if (!record)
      return std::optional<ScheduleEntry>();
    return ScheduleOf(*record);
  }

  void InstallRoutes() {
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
      response.set_content(metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    api.store = store.get();
    api.registry = &registry;
    api.runs = runs.get();
    api.scheduler = scheduler.get();  // api.alerts is set once the rules are loaded
    api.jobs_changed = [this](const std::string& team, const std::string& job) {
      if (Status updated = scheduler->Update(team, job); !updated.ok())
        log::Error(kComponent, "cannot update the schedule of job '{}': {}", job,
                   updated.ToString());
    };
    InstallApi(&http, &api);
    for (const WebAsset& asset : WebAssets()) {
      auto serve = [&asset](const httplib::Request&, httplib::Response& response) {
        response.set_header("Cache-Control", "no-cache");
        response.set_content(std::string(asset.content), std::string(asset.content_type));
      };
      http.Get(std::string(asset.path), serve);
      if (asset.path == "/index.html")
        http.Get("/", serve);
    }
    http.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty())
        return;
      // Errors cpp-httplib answers itself (no route, a request it cannot read) get a JSON
      // body like the API's own.
      const bool no_route = response.status == 404;
      response.set_content(
          nlohmann::json{
              {"error",
               {{"code", no_route ? "not_found" : "bad_request"},
                {"message",
                 no_route ? fmt::format("no route {} {} (see /api/v1/openapi.json)",
                                        request.method, request.path)
                          : fmt::format("the server could not read this request (HTTP {}): "
                                        "send a Content-Length, or the body as JSON",
                                        response.status)}}}}
              .dump(),
          "application/json");
    });
    http.set_exception_handler(
        [](const httplib::Request& request, httplib::Response& response, std::exception_ptr) {
          log::Error(kComponent, "{} {} raised an exception", request.method, request.path);
          response.status = 500;
          response.set_content(
              R"({"error":{"code":"internal","message":"the server failed on this request"}})",
              "application/json");
        });
    http.set_payload_max_length(16 << 20);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
}

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              const connectors::ConnectorRegistry& registry) {
  auto impl = std::make_unique<Impl>(registry);
  impl->options = options;
  SLUICE_ASSIGN_OR_RETURN(auto listen, SplitListen(options.listen));
  impl->host = listen.first;
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error)
    return ErrnoStatus("Cannot create the server's data folder", options.data_dir, error.value());
  const std::filesystem::path data(options.data_dir);
  SLUICE_ASSIGN_OR_RETURN(SecretBox box, SecretBox::Load((data / "secret.key").string()));
  SLUICE_ASSIGN_OR_RETURN(impl->store,
                          OpenServerStore(options.db.empty() ? (data / "server.db").string()
                                                             : options.db,
                                          std::move(box)));
  ServerStore* store = impl->store.get();

  // First start: the default team and an admin token for it.
  SLUICE_ASSIGN_OR_RETURN(std::optional<Team> team, store->GetTeam(kDefaultTeam));
  if (!team)
    SLUICE_RETURN_IF_ERROR(store->PutTeam(Team{kDefaultTeam, 0}));
  SLUICE_ASSIGN_OR_RETURN(bool any_admin, store->AnyAdminToken());
  if (!any_admin) {
    SLUICE_ASSIGN_OR_RETURN(impl->new_admin_token,
                            store->CreateToken(TokenInfo{"admin", kDefaultTeam, true}));
    SLUICE_RETURN_IF_ERROR(
        WriteSecretFile((data / "admin.token").string(), impl->new_admin_token + "\n"));
  }

  Impl* raw = impl.get();
  RunManagerOptions run_options;
  run_options.state_root = (data / "state").string();
  run_options.max_parallel_runs = options.max_parallel_runs;
  impl->runs = std::make_unique<RunManager>(
      store, registry,
      [raw](const std::string& team, const std::string& name) -> Result<config::JobConfig> {
        SLUICE_ASSIGN_OR_RETURN(std::optional<JobRecord> record, raw->store->GetJob(team, name));
        if (!record)
          return NotFound(fmt::format("job '{}' no longer exists", name));
        return LoadServerJob(raw->store.get(), raw->registry, team, record->yaml, "job " + name);
      },
      run_options);
  impl->scheduler = std::make_unique<Scheduler>(
      store, impl->runs.get(), [raw] { return raw->LoadSchedules(); },
      [raw](const std::string& team, const std::string& job) {
        return raw->LoadSchedule(team, job);
      });
  impl->metrics = std::make_unique<MetricsExport>(impl->runs.get(), impl->scheduler.get(), store);

  // Listen first: the URL goes into alert payloads, and a port in use fails before any run.
  impl->InstallRoutes();
  if (listen.second == 0) {
    impl->port = impl->http.bind_to_any_port(impl->host);
    if (impl->port < 0)
      return Unavailable(fmt::format("cannot listen on {}", options.listen));
  } else {
    if (!impl->http.bind_to_port(impl->host, listen.second)) {
      return Unavailable(fmt::format(
          "cannot listen on {} (is another server running there? --listen picks another)",
          options.listen));
    }
    impl->port = listen.second;
  }
  const std::string url = fmt::format("http://{}:{}", impl->host, impl->port);

  if (!options.alerts_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(AlertConfig alert_config, LoadAlertConfig(options.alerts_file));
    impl->alerts =
        std::make_unique<AlertEvaluator>(std::move(alert_config), store, impl->runs.get(), url);
    impl->api.alerts = impl->alerts.get();  // before the HTTP thread starts serving
  }
  impl->catalog = std::make_unique<CatalogRecorder>(
      store, [raw](const std::string& team, const std::string& job, const std::string& stream) {
        log::Info(kComponent, "the schema of stream '{}' (job '{}', team '{}') changed", stream,
                  job, team);
        if (raw->alerts)
          raw->alerts->OnSchemaChange(team, job, stream);
      });
  if (!options.lineage.empty()) {
    lineage::LineageEmitterOptions lineage_options;
    lineage_options.target = options.lineage;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<lineage::LineageEmitter> emitter,
                            lineage::LineageEmitter::Open(std::move(lineage_options)));
    impl->lineage = std::make_unique<LineageReporter>(std::move(emitter));
  }
  impl->runs->AddObserver(impl->metrics.get());
  impl->runs->AddObserver(impl->catalog.get());
  if (impl->lineage)
    impl->runs->AddObserver(impl->lineage.get());
  impl->runs->AddObserver(impl->scheduler.get());

  SLUICE_RETURN_IF_ERROR(impl->runs->Start());
  SLUICE_RETURN_IF_ERROR(impl->scheduler->Start());
  if (impl->alerts)
    impl->alerts->Start();
  impl->http_thread = std::thread([raw] { raw->http.listen_after_bind(); });
  log::Info(kComponent, "listening on {} (API {}/api/v1, metrics {}/metrics)", url, url, url);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const {
  return impl_->port;
}

std::string Server::url() const {
  return fmt::format("http://{}:{}", impl_->host, impl_->port);
}

const std::string& Server::new_admin_token() const {
  return impl_->new_admin_token;
}

std::string Server::admin_token_path() const {
  return (std::filesystem::path(impl_->options.data_dir) / "admin.token").string();
}

void Server::Shutdown() {
  if (!impl_ || impl_->shut_down)
    return;
  impl_->shut_down = true;
  impl_->http.stop();
  if (impl_->http_thread.joinable())
    impl_->http_thread.join();
  if (impl_->alerts)
    impl_->alerts->Shutdown();
  impl_->scheduler->Shutdown();
  impl_->runs->Shutdown();
  if (impl_->lineage)
    impl_->lineage->emitter().Flush(std::chrono::seconds(5));
}

}  // namespace sluice::server
