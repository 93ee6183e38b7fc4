import 'reflect-metadata';
import { createRequire } from 'node:module';
import { NestFactory, APP_FILTER } from '@nestjs/core';
import { Module, Controller, Get, Inject } from '@nestjs/common';
import { TerminusModule, HealthCheckService } from '@nestjs/terminus';
import * as nestjs from '@tim-broadcast/nestjs';
import * as health from '@tim-broadcast/nestjs/health';
import { startEmulator } from '@tim-broadcast/emulator';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/nestjs.cjs';

const require = createRequire(import.meta.url);
main('nestjs', async () => {
  sameExports('@tim-broadcast/nestjs', nestjs, require('@tim-broadcast/nestjs'));
  sameExports('@tim-broadcast/nestjs/health', health, require('@tim-broadcast/nestjs/health'));
  await scenario({ NestFactory, APP_FILTER, Module, Controller, Get, Inject, TerminusModule, HealthCheckService, nestjs, BroadcastHealthIndicator: health.BroadcastHealthIndicator, startEmulator });
});
