package runtime

import (
	"bytes"
	"debug/elf"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/lambda"
)

//go:embed node/bootstrap.mjs node/hooks.mjs
var nodeRuntime embed.FS

// manifestName is the file beside `bootstrap` in a zip built by slab; the
// sandbox runs SelfExe for such zips instead of the bootstrap.
const manifestName = "slab-manifest.json"

// launch is what to execute for an environment.
type launch struct {
	path       string
	args       []string
	runtimeDir string            // LAMBDA_RUNTIME_DIR
	extraEnv   map[string]string // runtime-specific variables
}

// plan decides how to run the function's code in dir, or says with
// Lambda's Runtime.InvalidEntrypoint why it cannot run on this host.
func (r *Runtime) plan(cfg lambda.FunctionConfig, dir string) (launch, error) {
	rt := cfg.Runtime
	switch {
	case strings.HasPrefix(rt, "provided"):
		return r.planProvided(cfg, dir)
	case strings.HasPrefix(rt, "nodejs"):
		return r.planNode(cfg, dir)
	}
	return launch{}, invalidEntrypoint("The sandbox runs provided.al2023, provided.al2 and nodejs functions; it cannot run %s functions.", rt)
}

func (r *Runtime) planProvided(cfg lambda.FunctionConfig, dir string) (launch, error) {
	bootstrap := filepath.Join(dir, "bootstrap")
	_, manifestErr := os.Stat(filepath.Join(dir, manifestName))
	hasManifest := manifestErr == nil
	if hasManifest && r.o.SelfExe != "" {
		return launch{path: r.o.SelfExe, runtimeDir: dir}, nil
	}
	fi, err := os.Stat(bootstrap)
	if err != nil || fi.IsDir() {
		return launch{}, invalidEntrypoint("Couldn't find valid bootstrap(s): [%s]", bootstrap)
	}
	if why := foreign(bootstrap); why != "" {
		msg := fmt.Sprintf("fork/exec %s: exec format error: %s", bootstrap, why)
		if hasManifest {
			msg += "; this zip was built by slab (" + manifestName + "), which the sandbox runs through slab's own executable, but it was started without one (SelfExe)"
		} else {
			msg += fmt.Sprintf("; build it for %s/%s to run it in the sandbox", runtime.GOOS, runtime.GOARCH)
		}
		return launch{}, invalidEntrypoint("%s", msg)
	}
	return launch{path: bootstrap, runtimeDir: dir}, nil
}

// foreign says why this host cannot execute the file, or "" when it can:
// an ELF executable of this machine on Linux, or a script with a shebang.
func foreign(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		if runtime.GOOS == "windows" {
			return "the bootstrap is a script, which Windows cannot execute"
		}
		return ""
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		ef, err := elf.NewFile(f)
		if err != nil {
			return "the bootstrap is not a valid ELF executable: " + err.Error()
		}
		arch := elfArch(ef.Machine)
		if runtime.GOOS != "linux" || arch != runtime.GOARCH {
			return fmt.Sprintf("the bootstrap is a linux/%s executable and this host is %s/%s", arch, runtime.GOOS, runtime.GOARCH)
		}
		return ""
	}
	return "the bootstrap is neither a Linux executable nor a script"
}

func elfArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

func (r *Runtime) planNode(cfg lambda.FunctionConfig, dir string) (launch, error) {
	node, err := r.node()
	if err != nil {
		return launch{}, invalidEntrypoint("The sandbox cannot run %s functions: %v. Install Node.js (https://nodejs.org) or give the sandbox its path (NodePath).", cfg.Runtime, err)
	}
	mods := r.o.NodeModules
	if mods == "" && r.o.NodeModulesFunc != nil {
		if mods, err = r.o.NodeModulesFunc(); err != nil {
			return launch{}, invalidEntrypoint("The sandbox cannot run %s functions: %v", cfg.Runtime, err)
		}
	}
	rtDir, err := r.nodeRuntimeDir(mods)
	if err != nil {
		return launch{}, err
	}
	paths := []string{}
	if mods != "" {
		paths = append(paths, mods)
	}
	paths = append(paths, dir)
	extra := map[string]string{
		"AWS_EXECUTION_ENV": "AWS_Lambda_" + cfg.Runtime,
		"NODE_PATH":         strings.Join(paths, string(os.PathListSeparator)),
	}
	if mods != "" {
		extra["_SLAB_NODE_MODULES"] = filepath.Join(rtDir, "node_modules")
	}
	return launch{path: node, args: []string{filepath.Join(rtDir, "bootstrap.mjs")}, runtimeDir: rtDir, extraEnv: extra}, nil
}

// node finds the node executable once.
func (r *Runtime) node() (string, error) {
	r.nodeMu.Lock()
	defer r.nodeMu.Unlock()
	if !r.nodeDone {
		r.nodeDone = true
		if r.o.NodePath != "" {
			r.nodeExe, r.nodeErr = exec.LookPath(r.o.NodePath)
		} else {
			r.nodeExe, r.nodeErr = exec.LookPath("node")
			if r.nodeErr != nil {
				r.nodeErr = fmt.Errorf("no node executable on PATH")
			}
		}
	}
	return r.nodeExe, r.nodeErr
}

// nodeRuntimeDir writes the embedded Node.js runtime client once.
func (r *Runtime) nodeRuntimeDir(mods string) (string, error) {
	base, err := r.baseDir()
	if err != nil {
		return "", err
	}
	r.nodeMu.Lock()
	defer r.nodeMu.Unlock()
	if r.nodeDir != "" {
		return r.nodeDir, nil
	}
	dir := filepath.Join(base, "runtime-node")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{"bootstrap.mjs", "hooks.mjs"} {
		b, err := nodeRuntime.ReadFile("node/" + name)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err
		}
	}
	if mods != "" {
		// ESM resolution searches directories named node_modules only:
		// a link by that name lets the runtime's hooks search NodeModules
		// whatever it is called.
		abs, err := filepath.Abs(mods)
		if err != nil {
			return "", err
		}
		if err := os.Symlink(abs, filepath.Join(dir, "node_modules")); err != nil && !os.IsExist(err) {
			return "", err
		}
	}
	r.nodeDir = dir
	return dir, nil
}

// hostPassthrough are the host variables a function process needs to run
// at all; every other host variable (AWS_* above all) stays out.
var hostPassthrough = []string{"PATH", "TMPDIR", "SYSTEMROOT", "SystemRoot", "WINDIR", "TEMP", "TMP", "COMSPEC", "PATHEXT"}

// environ is the function's environment: what Lambda sets, the function's
// own variables, and AWS_ENDPOINT_URL pointing at the sandbox.
func (r *Runtime) environ(cfg lambda.FunctionConfig, creds credentials, apiAddr, stream, taskRoot string, l launch) []string {
	vars := map[string]string{}
	for _, k := range hostPassthrough {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	none := filepath.Join(taskRoot, ".slab-no-aws-config")
	for k, v := range map[string]string{
		"LANG": "en_US.UTF-8",
		"TZ":   ":UTC",
		// Host configuration must not leak in: Lambda has no shared
		// config files and no instance metadata.
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		vars[k] = v
	}
	for k, v := range cfg.Environment {
		vars[k] = v
	}
	if _, set := cfg.Environment["AWS_ENDPOINT_URL"]; !set {
		// A sandbox served only through Handler has no URL of its own:
		// a closed local port keeps the function's SDK calls off AWS.
		vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
		if r.c.Endpoint != "" {
			vars["AWS_ENDPOINT_URL"] = r.c.Endpoint
		}
	}
	for k, v := range l.extraEnv {
		vars[k] = v
	}
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          apiAddr,
		"_HANDLER":                        cfg.Handler,
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      cfg.Scope.Region,
		"AWS_DEFAULT_REGION":              cfg.Scope.Region,
		"AWS_LAMBDA_LOG_GROUP_NAME":       logGroup(cfg),
		"AWS_LAMBDA_LOG_STREAM_NAME":      stream,
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              l.runtimeDir,
		"AWS_ACCESS_KEY_ID":               creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":               creds.SessionToken,
	} {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

func logGroup(cfg lambda.FunctionConfig) string {
	if cfg.LogGroup != "" {
		return cfg.LogGroup
	}
	return "/aws/lambda/" + cfg.Name
}
