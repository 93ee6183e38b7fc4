require('reflect-metadata');
const { main } = require('./harness.cjs');
const { NestFactory, APP_FILTER } = require('@nestjs/core');
const { Module, Controller, Get, Inject } = require('@nestjs/common');
const { TerminusModule, HealthCheckService } = require('@nestjs/terminus');
const nestjs = require('@tim-broadcast/nestjs');
const { BroadcastHealthIndicator } = require('@tim-broadcast/nestjs/health');
const { startEmulator } = require('@tim-broadcast/emulator');
const scenario = require('./scenarios/nestjs.cjs');

main('nestjs', () => scenario({ NestFactory, APP_FILTER, Module, Controller, Get, Inject, TerminusModule, HealthCheckService, nestjs, BroadcastHealthIndicator, startEmulator }));
