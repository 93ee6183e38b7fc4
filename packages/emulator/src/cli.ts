#!/usr/bin/env node
import { runEmulatorCli } from './cli-main';

void runEmulatorCli(process.argv.slice(2));
