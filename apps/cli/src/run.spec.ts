import { describe, expect, it } from "vitest";
import { commands } from "./commands";
import { runKne } from "./testing";

describe("kne", () => {
  it("lists the commands that exist in --help", async () => {
    const { code, stdout, stderr } = await runKne(["--help"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    for (const command of commands) expect(stdout).toContain(`  ${command.words.join(" ")}`);
    expect(stdout).toMatch(/Exit status: 0 success, 1 .*\n2 wrong command line/);
  });

  it("without a command prints help to stderr and exits 2", async () => {
    const { code, stdout, stderr } = await runKne([]);
    expect([code, stdout]).toEqual([2, ""]);
    expect(stderr).toContain("Usage:\n  kne COMMAND");
  });

  it("lists each command with the words and summary its module gives it", async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect({ words: command.words, summary: command.summary }).toEqual({ words: entry.words, summary: entry.summary });
    }
  });

  it("gives every command a --help (and -h, and 'kne help ...') with usage and examples", async () => {
    for (const entry of commands) {
      const command = await entry.load();
      for (const argv of [[...command.words, "--help"], [...command.words, "-h"], ["help", ...command.words]]) {
        const { code, stdout } = await runKne(argv);
        expect(code).toBe(0);
        expect(stdout).toBe(command.help);
      }
      expect(command.help).toContain(`kne ${command.words.join(" ")}`);
      expect(command.help).toContain("Examples:");
    }
  });

  it("shows a group's commands", async () => {
    expect(await runKne(["topology", "--help"])).toMatchObject({ code: 0, stdout: expect.stringContaining("topology validate") });
    expect(await runKne(["topology"])).toMatchObject({ code: 2, stderr: expect.stringContaining("topology convert") });
  });

  it("exits 2 on an unknown command or flag, pointing at help", async () => {
    expect(await runKne(["frobnicate"])).toMatchObject({ code: 2, stderr: 'kne: unknown command "frobnicate"\nRun \'kne --help\' for the list of commands.\n' });
    expect(await runKne(["topology", "frobnicate"])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "topology frobnicate"') });
    expect(await runKne(["version", "--bogus"])).toMatchObject({
      code: 2,
      stderr: "kne version: unknown flag --bogus\nRun 'kne version --help' for usage.\n",
    });
    expect(await runKne(["version", "-o", "xml"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--output must be one of table, json, yaml") });
  });

  it("prints its version as a table, JSON or YAML; -o may come before the command", async () => {
    const table = await runKne(["version"]);
    expect(table.stdout).toMatch(/^kne\s+\d+\.\d+\.\d+\nnode\s+v\d+/);
    const json = JSON.parse((await runKne(["-o", "json", "version"])).stdout) as Record<string, string>;
    expect(json).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version, platform: `${process.platform}/${process.arch}` });
    expect((await runKne(["--version", "--output=yaml"])).stdout).toContain(`version: ${json["version"]}`);
  });
});
