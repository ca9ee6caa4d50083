// Drives pycodex through the official @openai/codex-sdk and prints one JSON object.
//
//   node drive.mjs <pycodex-binary> <workspace-dir> <scenario> [options-json]
//
// Scenarios: run | runStreamed | outputSchema | flags. The optional JSON object may carry
// `apiKey`, `baseUrl`, `prompt`, `extraDir` and `image`. The child inherits this process's
// environment (PYCODEX_HOME etc.); the SDK adds CODEX_API_KEY when `apiKey` is given.
// Exit status is 0 whenever the JSON was printed; SDK errors are reported as {"error": ...}.
import { Codex } from "@openai/codex-sdk";

const [pycodexPath, workspace, scenario, rawOptions] = process.argv.slice(2);
if (!pycodexPath || !workspace || !scenario) {
  console.error("usage: node drive.mjs <pycodex-binary> <workspace-dir> <scenario> [options-json]");
  process.exit(2);
}
const opts = rawOptions ? JSON.parse(rawOptions) : {};
const codex = new Codex({
  codexPathOverride: pycodexPath,
  apiKey: opts.apiKey,
  baseUrl: opts.baseUrl,
});

const ANSWER_SCHEMA = {
  type: "object",
  properties: { answer: { type: "string" }, ok: { type: "boolean" } },
  required: ["answer", "ok"],
  additionalProperties: false,
};

async function runScenario() {
  switch (scenario) {
    case "run": {
      const thread = codex.startThread({ workingDirectory: workspace });
      const turn = await thread.run(opts.prompt ?? "Say something.");
      return { threadId: thread.id, ...turn };
    }
    case "runStreamed": {
      const thread = codex.startThread({
        workingDirectory: workspace,
        sandboxMode: "danger-full-access",
      });
      const { events } = await thread.runStreamed(opts.prompt ?? "Run a command.");
      const collected = [];
      for await (const event of events) {
        collected.push(event);
      }
      return { threadId: thread.id, events: collected };
    }
    case "outputSchema": {
      const thread = codex.startThread({ workingDirectory: workspace });
      const turn = await thread.run(opts.prompt ?? "Answer as JSON.", {
        outputSchema: ANSWER_SCHEMA,
      });
      return { threadId: thread.id, ...turn, parsed: JSON.parse(turn.finalResponse) };
    }
    case "flags": {
      // Every ThreadOptions / TurnOptions field that turns into an exec flag or --config.
      const thread = codex.startThread({
        model: "gpt-5.5",
        threadSource: "user",
        sandboxMode: "workspace-write",
        workingDirectory: workspace,
        additionalDirectories: [opts.extraDir],
        skipGitRepoCheck: true,
        modelReasoningEffort: "high",
        networkAccessEnabled: true,
        webSearchMode: "disabled",
        approvalPolicy: "never",
      });
      const turn = await thread.run(
        [
          { type: "text", text: opts.prompt ?? "Describe the image." },
          { type: "local_image", path: opts.image },
        ],
        { cyberAccessProgram: "standard" },
      );
      return { threadId: thread.id, ...turn };
    }
    default:
      throw new Error(`unknown scenario: ${scenario}`);
  }
}

let result;
try {
  result = await runScenario();
} catch (error) {
  result = { error: String(error?.message ?? error) };
}
process.stdout.write(JSON.stringify(result) + "\n");
